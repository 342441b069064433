import HealthAPI
import HealthHistory
import Prometheus
import Synchronization

/// The 1.17+ health metrics. Gauges are recomputed from the same status the CLI shows, at scrape
/// time, so the two never disagree (cilium#9585); labels carry no peer names, so cardinality stays
/// bounded however large the cluster (cilium#26512, #33103).
public final class HealthMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// What a failed probe is observed as: the probe timeout, as upstream does.
    private let failureSeconds: Double

    /// The history's gauges, in the same exposition.
    public let history: HistoryMetrics

    public init(failureSeconds: Double = 10, worstK: Int = 10) {
        self.failureSeconds = failureSeconds
        history = HistoryMetrics(registry: registry, worstK: worstK)
    }

    /// Upstream's histogram sets no buckets, so client_golang's DefBuckets apply (the largest,
    /// 10 s, is the probe timeout CFP-32820 sized them for); a failure lands in +Inf.
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// `cluster/node` split at the last "/"; a bare name belongs to cluster `default`.
    static func source(_ local: String?) -> (cluster: String, node: String) {
        guard let local, !local.isEmpty else { return ("default", "") }
        guard let slash = local.lastIndex(of: "/") else { return ("default", local) }
        return (String(local[..<slash]), String(local[local.index(after: slash)...]))
    }

    /// Nodes upstream leaves out of the metrics: no host or no health-endpoint primary address.
    static func peers(_ status: HealthStatusResponse) -> [NodeStatus] {
        status.nodes.filter { $0.host?.primaryAddress != nil && $0.healthEndpoint?.primaryAddress != nil }
    }

    /// Refreshes the status gauges and the unreachable counts from `status`.
    public func refresh(from status: HealthStatusResponse) {
        let (cluster, node) = Self.source(status.local?.name)
        let peers = Self.peers(status)
        for (type, paths) in [("node", peers.flatMap(\.hostPaths)), ("endpoint", peers.flatMap(\.endpointPaths))] {
            var counts: [ConnectivityReachability: Int] = [.reachable: 0, .unreachable: 0, .unknown: 0]
            for path in paths { counts[ConnectivityReachability.of(path), default: 0] += 1 }
            for (reachability, count) in counts {
                registry.makeGauge(
                    descriptor: .init(namespace: "cilium", metricName: "node_health_connectivity_status", unitName: "",
                                      helpText: "The number of endpoints with last observed status of both ICMP and HTTP connectivity between the current Cilium agent and other Cilium nodes"),
                    // client_golang writes labels sorted by name; so do we.
                    labels: [("source_cluster", cluster), ("source_node_name", node), ("status", "\(reachability)"),
                             ("type", type)]
                ).set(Double(count))
            }
        }
        let unreachableNodes = status.nodes.filter { $0.hostPaths.contains { ConnectivityReachability.of($0) == .unreachable } }
        let unreachableEndpoints = status.nodes.filter {
            $0.endpointPaths.contains { ConnectivityReachability.of($0) == .unreachable }
        }
        registry.makeGauge(descriptor: .init(namespace: "cilium", metricName: "unreachable_nodes", unitName: "",
                                             helpText: "Number of nodes that cannot be reached"))
            .set(Double(unreachableNodes.count))
        registry.makeGauge(descriptor: .init(namespace: "cilium", metricName: "unreachable_health_endpoints", unitName: "",
                                             helpText: "Number of health endpoints that cannot be reached"))
            .set(Double(unreachableEndpoints.count))
    }

    /// One observation per non-nil probe result, made when a round is published.
    public func observeLatencies(from status: HealthStatusResponse) {
        let (cluster, node) = Self.source(status.local?.name)
        for peer in Self.peers(status) {
            for (type, addresses) in [("node", peer.host), ("endpoint", peer.healthEndpoint)] {
                guard let addresses else { continue }
                let tagged = (addresses.primaryAddress.map { [("primary", $0)] } ?? [])
                    + addresses.secondaryAddresses.map { ("secondary", $0) }
                for (addressType, path) in tagged {
                    for (proto, result) in [("icmp", path.icmp), ("http", path.http)] {
                        guard let result else { continue }
                        let seconds = result.status.isEmpty ? Double(result.latency) / 1e9 : failureSeconds
                        registry.makeValueHistogram(
                            descriptor: .init(namespace: "cilium", metricName: "node_health_connectivity_latency", unitName: "seconds",
                                              helpText: "The histogram for last observed latency between the current Cilium agent and other Cilium nodes in seconds"),
                            labels: [("address_type", addressType), ("protocol", proto), ("source_cluster", cluster),
                                     ("source_node_name", node), ("type", type)],
                            buckets: Self.latencyBuckets
                        ).record(seconds)
                    }
                }
            }
        }
    }

    /// What fast detection did; counters without peer labels.
    public enum DetectionEvent: String, Sendable {
        case suspicionSent = "suspicion_sent", suspicionHeard = "suspicion_heard", down, recovered
    }

    public func detected(_ event: DetectionEvent) {
        registry.makeCounter(descriptor: .init(namespace: "nethealth", metricName: "detection_events", unitName: "total",
                                               helpText: "Fast-detection events of this agent: suspicions sent and heard, peers confirmed down by its own probe, peers recovered"),
                             labels: [("event", event.rawValue)]).increment()
    }

    /// Loss, jitter and the prober's own scheduling delay, summarised over paths so that labels
    /// stay bounded (per-path figures are in `cilium-health status -o wide`).
    public func refresh(from wide: WideStatusResponse) {
        refresh(from: wide.status)
        for type in ["node", "endpoint"] {
            let paths = wide.paths.filter { $0.type == type && $0.echoes > 0 }
            let loss = paths.map { $0.lossPercent / 100 }
            let jitter = paths.map { Double($0.jitter) / 1e9 }
            for (name, help, values) in [
                ("path_loss_ratio", "Fraction of ICMP echoes lost on this agent's paths (stat: mean or max over paths)", loss),
                ("path_jitter_seconds", "RFC 3550 jitter of ICMP RTTs on this agent's paths (stat: mean or max over paths)", jitter),
            ] {
                for (stat, value) in [("mean", values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)),
                                      ("max", values.max() ?? 0)] {
                    registry.makeGauge(descriptor: .init(namespace: "nethealth", metricName: name, unitName: "", helpText: help),
                                       labels: [("stat", stat), ("type", type)]).set(value)
                }
            }
        }
        let p = wide.prober
        for (stat, value) in [("p50", p.schedulingDelayP50), ("p99", p.schedulingDelayP99), ("max", p.schedulingDelayMax)] {
            registry.makeGauge(descriptor: .init(namespace: "nethealth", metricName: "prober_scheduling_delay_seconds", unitName: "",
                                                 helpText: "How late the prober's timers fired over the last minute (a starved prober shows here, not as latency)"),
                               labels: [("stat", stat)]).set(Double(value) / 1e9)
        }
        registry.makeGauge(descriptor: .init(namespace: "nethealth", metricName: "prober_icmp_bursts_per_second", unitName: "",
                                             helpText: "ICMP bursts this agent sent per second over the last minute"))
            .set(p.probesPerSecond)
        for (state, count) in [("watched", p.watched.count), ("suspect", p.suspect), ("down", p.down.count)] {
            registry.makeGauge(descriptor: .init(namespace: "nethealth", metricName: "detection_peers", unitName: "",
                                                 helpText: "Peers this agent watches, suspects, or confirmed down"),
                               labels: [("state", state)]).set(Double(count))
        }
    }

    public func exposition() -> String {
        registry.emitToString()
    }
}

/// From the history: loss per path type and protocol (bounded labels, like the status gauge), and
/// the K slowest pairs by median RTT, so a dashboard can name them without N² series (the
/// deprecated per-peer gauges of cilium#26512). Series of pairs that left the top K are removed.
public final class HistoryMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let worstK: Int
    private let worst = Mutex<[Gauge]>([])

    public init(registry: PrometheusCollectorRegistry, worstK: Int) {
        self.registry = registry
        self.worstK = max(0, worstK)
    }

    public static let window: Duration = .seconds(300)

    public func refresh(local: String?, recent: [RecentSummary]) {
        let (cluster, node) = HealthMetrics.source(local)
        var totals: [String: (samples: Int, failures: Int)] = [:]
        for s in recent {
            let key = "\(s.target.path == "host" ? "node" : "endpoint") \(s.target.protocol)"
            totals[key, default: (0, 0)].samples += s.samples
            totals[key, default: (0, 0)].failures += s.failures
        }
        for type in ["node", "endpoint"] {
            for proto in ["icmp", "http"] {
                let t = totals["\(type) \(proto)"] ?? (0, 0)
                registry.makeGauge(
                    descriptor: .init(namespace: "cilium", metricName: "node_health_connectivity_loss_ratio", unitName: "",
                                      helpText: "Failed probe samples (unanswered echoes included) over all samples in the last 5 minutes, per path type and protocol"),
                    labels: [("protocol", proto), ("source_cluster", cluster), ("source_node_name", node), ("type", type)]
                ).set(t.samples == 0 ? 0 : Double(t.failures) / Double(t.samples))
            }
        }
        let slowest = recent.filter { $0.p50 != nil }.sorted { ($0.p50 ?? 0, $1.target) > ($1.p50 ?? 0, $0.target) }.prefix(worstK)
        let gauges = slowest.enumerated().map { rank, s -> Gauge in
            let gauge = registry.makeGauge(
                descriptor: .init(namespace: "cilium", metricName: "node_health_worst_latency", unitName: "seconds",
                                  helpText: "Median RTT in the last 5 minutes of the K slowest target addresses (rank 1 is the slowest)"),
                labels: [("protocol", s.target.protocol), ("rank", "\(rank + 1)"), ("source_cluster", cluster),
                         ("source_node_name", node), ("target_ip", s.target.ip), ("target_node_name", s.target.shortNode),
                         ("type", s.target.path == "host" ? "node" : "endpoint")])
            gauge.set(Double(s.p50 ?? 0) / 1e9)
            return gauge
        }
        let stale = worst.withLock { old -> [Gauge] in
            defer { old = gauges }
            return old.filter { g in !gauges.contains { $0 === g } }
        }
        stale.forEach(registry.unregisterGauge)
    }
}
