import Foundation
import HTTPSupport
import HealthDaemon

/// What `cluster up` was asked for. A nil field keeps a running cluster's value (a new cluster
/// gets the default); a value that differs from the running cluster's is refused with the reason,
/// never silently ignored. Every value is checked before anything is created.
public struct ClusterUpRequest: Sendable, Equatable {
    public var nodes: Int?
    public var ipv6: Bool?
    public var probeRatio: Double?
    /// Echoes per ICMP probe (a sequenced burst that measures loss and jitter).
    public var icmpBurst: Int?
    /// Seconds between health endpoint checks, and without success before it is rebuilt.
    public var endpointCheckSeconds: Double?
    public var endpointRelaunchSeconds: Double?
    /// Group allowed to use the node sockets (mode 0660); nil keeps upstream's default.
    public var socketGroup: String?
    /// A Kubernetes control plane the nodes join; nil keeps a running cluster's choice and gives
    /// a new cluster `kubernetesByDefault` (the CLI: yes; library callers: no).
    public var kubernetes: Bool?
    public var kubernetesByDefault = false
    /// Who runs cilium-health; nil keeps a running cluster's choice (a new cluster: the agents).
    public var health: ClusterSpec.HealthMode?

    public static let defaultNodes = 3
    public static let defaultProbeRatio = 0.5
    /// Bounds of the endpoint controller's timing, in seconds (upstream: 60 and 300).
    public static let endpointCheckRange = 0.1...3600.0
    public static let endpointRelaunchRange = 0.1...86400.0

    public init(nodes: Int? = nil, ipv6: Bool? = nil, probeRatio: Double? = nil,
                endpointCheckSeconds: Double? = nil, endpointRelaunchSeconds: Double? = nil, socketGroup: String? = nil,
                kubernetes: Bool? = nil) {
        self.socketGroup = socketGroup
        self.kubernetes = kubernetes
        self.nodes = nodes
        self.ipv6 = ipv6
        self.probeRatio = probeRatio
        self.endpointCheckSeconds = endpointCheckSeconds
        self.endpointRelaunchSeconds = endpointRelaunchSeconds
    }

    /// Finite, in-range values only (`inf` and `nan` parse as Doubles but cannot be used or stored).
    public func validate() throws {
        if let nodes, !(1...ClusterSpec.maxNodes).contains(nodes) {
            throw AgentError("--nodes must be between 1 and \(ClusterSpec.maxNodes), got \(nodes)")
        }
        if let probeRatio { _ = try ProbeIntervalCheck.validate(probeRatio) }
        if let icmpBurst, !HealthProber.Settings.burstRange.contains(icmpBurst) {
            throw AgentError("--icmp-burst must be \(HealthProber.Settings.burstRange.lowerBound)-\(HealthProber.Settings.burstRange.upperBound) echoes, got \(icmpBurst)")
        }
        if let endpointCheckSeconds {
            try Self.check(endpointCheckSeconds, in: Self.endpointCheckRange, flag: "--endpoint-check-interval")
        }
        if let endpointRelaunchSeconds {
            try Self.check(endpointRelaunchSeconds, in: Self.endpointRelaunchRange, flag: "--endpoint-relaunch-after")
        }
        if let socketGroup {
            do { _ = try UnixSocketFile.resolveGroup(socketGroup) } catch { throw AgentError("--socket-group: \(error)") }
        }
        if health == .daemonset, kubernetes == false { throw Self.daemonSetNeedsKubernetes }
    }

    static let daemonSetNeedsKubernetes =
        AgentError("--health daemonset needs the Kubernetes control plane (the DaemonSets run through it): drop --no-kubernetes")

    static func check(_ value: Double, in range: ClosedRange<Double>, flag: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw AgentError("\(flag) must be \(format(range.lowerBound))-\(format(range.upperBound)) seconds, got \(value)")
        }
    }

    static func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// The spec of a new cluster.
    func plan(name: String) -> ClusterSpec {
        var spec = ClusterSpec.plan(name: name, nodeCount: nodes ?? Self.defaultNodes, ipv6: ipv6 ?? false,
                         probeRatio: probeRatio ?? Self.defaultProbeRatio,
                         endpointCheck: .init(checkSeconds: endpointCheckSeconds ?? ClusterSpec.EndpointCheckTiming.upstream.checkSeconds,
                                              relaunchAfterSeconds: endpointRelaunchSeconds
                                                  ?? ClusterSpec.EndpointCheckTiming.upstream.relaunchAfterSeconds))
        spec.socketGroup = socketGroup
        spec.icmpBurst = icmpBurst
        spec.health = health == .daemonset ? .daemonset : nil
        return spec
    }

    /// Refuses a request that would change a running cluster, naming each setting, its current
    /// value and the requested one: these are read by every agent at start, and changing them
    /// means rebuilding the cluster, which only `down` + `up` may do.
    func checkMatches(_ existing: ClusterSpec) throws {
        var changes: [String] = []
        if let nodes, nodes != existing.nodes.count {
            changes.append("it has \(existing.nodes.count) nodes, not \(nodes)")
        }
        if let ipv6, ipv6 != existing.ipv6 {
            changes.append(existing.ipv6 ? "it is dual-stack (IPv4 and IPv6), --no-ipv6 was asked for"
                                         : "it is IPv4-only, --ipv6 (dual-stack) was asked for")
        }
        if let probeRatio, probeRatio != existing.probeRatio {
            changes.append("its --probe-ratio is \(existing.probeRatio), not \(probeRatio)")
        }
        if let icmpBurst, icmpBurst != existing.icmpBurst ?? HealthProber.Settings().icmpBurst {
            changes.append("its --icmp-burst is \(existing.icmpBurst ?? HealthProber.Settings().icmpBurst), not \(icmpBurst)")
        }
        let timing = existing.endpointCheck ?? .upstream
        if let asked = endpointCheckSeconds, asked != timing.checkSeconds {
            changes.append("its --endpoint-check-interval is \(timing.checkSeconds), not \(asked)")
        }
        if let asked = endpointRelaunchSeconds, asked != timing.relaunchAfterSeconds {
            changes.append("its --endpoint-relaunch-after is \(timing.relaunchAfterSeconds), not \(asked)")
        }
        if let kubernetes, kubernetes != (existing.kubernetes != nil) {
            changes.append(existing.kubernetes != nil ? "it has a Kubernetes control plane, --no-kubernetes was asked for"
                                                      : "it has no Kubernetes control plane, --kubernetes was asked for")
        }
        if let health, health != existing.healthMode {
            changes.append("its --health is \(existing.healthMode.rawValue), not \(health.rawValue)")
        }
        if let socketGroup, socketGroup != existing.socketGroup {
            changes.append("its --socket-group is \(existing.socketGroup ?? "the default (\(UnixSocketFile.defaultGroup) if it exists, else root)"), not \(socketGroup)")
        }
        guard !changes.isEmpty else { return }
        throw AgentError("cluster '\(existing.name)' is already up and its settings cannot change while it runs: "
            + changes.joined(separator: "; ") + ". Run `agent cluster down --name \(existing.name)` first, "
            + "or leave the option out to keep the running value")
    }
}
