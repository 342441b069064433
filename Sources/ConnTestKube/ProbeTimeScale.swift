import ConnTest

/// `--time-scale` on a real cluster: the probes' periods and initial delays in the applied
/// Deployments are scaled (kubelet takes whole seconds, at least 1 for a period); timeouts and
/// thresholds stay as written, because the probe commands keep their own timing.
enum ProbeTimeScale {
    static func apply(_ resources: [Resource], scale: Double) -> [Resource] {
        guard scale != 1 else { return resources }
        return resources.map { r in
            guard r.kind == .deployment else { return r }
            var out = r
            out.document = r.document.updating(["spec", "template", "spec", "containers"]) { containers in
                .seq((containers.arrayValue ?? []).map { c in
                    var c = c
                    for key in ["readinessProbe", "livenessProbe"] where c[key] != nil {
                        c = c.updating([key]) { probe in
                            let period = probe["periodSeconds"]?.looseIntValue.flatMap { $0 > 0 ? $0 : nil } ?? 10
                            let delay = probe["initialDelaySeconds"]?.looseIntValue ?? 0
                            return probe.setting("periodSeconds", to: .int(max(1, Int((Double(period) * scale).rounded()))))
                                .setting("initialDelaySeconds", to: .int(max(0, Int((Double(delay) * scale).rounded()))))
                        }
                    }
                    return c
                })
            }
            return out
        }
    }
}
