import ConnTest

/// `--ip-family`: every Service of the run single-stack in one family, so its ClusterIP, its
/// endpoints, NodePorts and DNS answers all use it (the suite's manifests name no family).
enum ServiceFamily {
    static func apply(_ resources: [Resource], _ family: RunIPFamily) -> [Resource] {
        guard family == .ipv6 else { return resources }
        return resources.map { r in
            guard r.kind == .service else { return r }
            var out = r
            out.document = r.document.updating(["spec"]) {
                $0.setting("ipFamilyPolicy", to: .string("SingleStack")).setting("ipFamilies", to: .seq([.string("IPv6")]))
            }
            return out
        }
    }
}
