import Foundation
import HTTPSupport
import HealthAPI
import HealthHistory
import ICMPProbe
import Logging

/// Probes every node's addresses over ICMP and HTTP and keeps the latest result per IP.
///
/// Unlike upstream, results are visible as soon as each probe finishes (upstream publishes a round
/// only at the next tick, so its API can be two intervals old: cilium#18559), and `probeNow` runs a
/// bounded fresh round instead of returning the cache (cilium#2318, #38169).
public actor HealthProber {
    struct PathResult {
        var icmp: ConnectivityStatus?
        var http: ConnectivityStatus?
    }

    private let source: any NodeSource
    private let pinger: ICMPPinger
    private let http: HTTPProbe
    private let interval: ProbeInterval
    private let icmpAttempts: Int
    private let icmpDeadline: Duration
    private let logger: Logger
    public nonisolated let metrics: HealthMetrics
    /// Told every finished probe result (the history); nil keeps nothing.
    private let recorder: (any ProbeRecorder)?

    private var localName = ""
    private var clientID: Int64 = 0
    private var nodes: [String: NodeProbeTargets] = [:]
    private var results: [String: PathResult] = [:]
    /// `targetIPs` as a set, kept in step with `nodes` so recording a result is O(1).
    private var liveIPs: Set<String> = []
    private var roundStart = Date()
    private var currentInterval: Duration
    private var inFlightProbe: Task<HealthStatusResponse, Never>?

    public init(source: any NodeSource, pinger: ICMPPinger, http: HTTPProbe, interval: ProbeInterval,
                icmpAttempts: Int = 3, icmpDeadline: Duration = .seconds(10), metrics: HealthMetrics = HealthMetrics(),
                recorder: (any ProbeRecorder)? = nil, logger: Logger) {
        self.metrics = metrics
        self.recorder = recorder
        self.source = source
        self.pinger = pinger
        self.http = http
        self.interval = interval
        self.icmpAttempts = icmpAttempts
        self.icmpDeadline = icmpDeadline
        self.logger = logger
        currentInterval = interval.duration(ipCount: 0)
    }

    // MARK: Nodes

    /// Distinct addresses in node-name order, so launches are spread deterministically.
    var targetIPs: [String] {
        var seen = Set<String>()
        return nodes.keys.sorted().flatMap { nodes[$0]?.allIPs ?? [] }.filter { seen.insert($0).inserted }
    }

    /// Applies the agent's node diff. On failure upstream drops every node and restarts from a full list.
    @discardableResult
    public func refreshNodes() async -> Bool {
        do {
            let diff = try await source.fetch(clientID: clientID)
            if clientID == 0 { nodes = [:] }
            clientID = diff.clientID
            localName = diff.self_
            for removed in diff.nodesRemoved ?? [] { nodes[removed.name] = nil }
            for added in diff.nodesAdded ?? [] { nodes[added.name] = NodeProbeTargets(added) }
            liveIPs = Set(targetIPs)
            results = results.filter { liveIPs.contains($0.key) }
            return true
        } catch {
            if clientID != 0 || !nodes.isEmpty {
                logger.warning("cannot fetch cluster nodes from agent, dropping all nodes", metadata: ["error": "\(error)"])
            }
            clientID = 0
            nodes = [:]
            liveIPs = []
            results = [:]
            return false
        }
    }

    // MARK: Status

    public func status() -> HealthStatusResponse {
        let list = nodes.keys.sorted().compactMap { name -> NodeStatus? in
            guard let t = nodes[name] else { return nil }
            return NodeStatus(name: name, host: addresses(t.host), healthEndpoint: addresses(t.healthEndpoint))
        }
        return HealthStatusResponse(
            timestamp: RFC3339.string(roundStart),
            probeInterval: goDurationString(nanoseconds: currentInterval.nanoseconds),
            local: localName.isEmpty ? nil : SelfStatus(name: localName),
            nodes: list)
    }

    private func addresses(_ ips: [String]) -> AddressesStatus? {
        guard let first = ips.first else { return nil }
        return AddressesStatus(primaryAddress: path(first), secondaryAddresses: ips.dropFirst().map(path))
    }

    private func path(_ ip: String) -> PathStatus {
        let r = results[ip]
        return PathStatus(ip: ip, icmp: r?.icmp, http: r?.http)
    }

    // MARK: Probing

    /// How often the node list is asked for between rounds, so a node that joins (or the rest of
    /// the cluster, for an agent that started before its peers registered) is probed at once.
    static let nodeRefresh: Duration = .seconds(2)

    /// The periodic loop: waits for the agent, then runs rate-limited rounds until cancelled.
    /// The first round probes every address at once, so a (re)started agent's view is filled
    /// within one probe deadline instead of one interval (which can be minutes); later rounds
    /// are spread over the interval. Addresses that appear meanwhile are probed when they appear.
    public func run() async {
        while !Task.isCancelled, !(await refreshNodes()) {
            try? await Task.sleep(for: .seconds(1))
        }
        var first = true
        while !Task.isCancelled {
            let ips = targetIPs
            currentInterval = interval.duration(ipCount: ips.count)
            let started = ContinuousClock.now
            let next = started + currentInterval
            let spread = first ? nil : currentInterval
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.runRound(ips, spreadOver: spread) }
                group.addTask { await self.probeNewNodes(alreadyProbed: Set(ips), until: next) }
            }
            first = false
            metrics.observeLatencies(from: status())
            if next > .now { try? await Task.sleep(until: next, clock: .continuous) }
            await refreshNodes()
        }
    }

    /// Until `until`: every `nodeRefresh`, asks for the node list and probes addresses not seen yet.
    private func probeNewNodes(alreadyProbed: Set<String>, until: ContinuousClock.Instant) async {
        var probed = alreadyProbed
        while !Task.isCancelled, ContinuousClock.now + Self.nodeRefresh < until {
            do { try await Task.sleep(for: Self.nodeRefresh) } catch { return }
            await refreshNodes()
            let fresh = targetIPs.filter { !probed.contains($0) }
            guard !fresh.isEmpty else { continue }
            probed.formUnion(fresh)
            await withTaskGroup(of: Void.self) { group in
                for ip in fresh { group.addTask { await self.probe(ip) } }
            }
        }
    }

    /// One full round right now, every probe bounded by its deadline; concurrent callers share it.
    public func probeNow() async -> HealthStatusResponse {
        if let running = inFlightProbe { return await running.value }
        let task = Task { () -> HealthStatusResponse in
            await self.refreshNodes()
            await self.runRound(self.targetIPs, spreadOver: nil)
            let status = self.status()
            self.metrics.observeLatencies(from: status)
            return status
        }
        inFlightProbe = task
        let result = await task.value
        inFlightProbe = nil
        return result
    }

    /// Launches one probe pair per IP. With `spreadOver`, launches are evenly spaced across it
    /// (upstream's token bucket: one token per interval/ipCount, burst 1).
    func runRound(_ ips: [String], spreadOver: Duration?) async {
        roundStart = Date()
        let clockStart = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            let offsets = spreadOver.map { LaunchSchedule.offsets(count: ips.count, across: $0) }
            for (i, ip) in ips.enumerated() {
                if let offset = offsets?[i], offset > .zero {
                    do { try await Task.sleep(until: clockStart + offset, clock: .continuous) } catch { break }
                }
                group.addTask { await self.probe(ip) }
            }
        }
    }

    private func probe(_ ip: String) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let outcome = await self.pinger.ping(ip, attempts: self.icmpAttempts, deadline: self.icmpDeadline)
                await self.record(ip, icmp: Self.status(outcome), unanswered: outcome.unanswered(attempts: self.icmpAttempts))
            }
            group.addTask {
                let outcome = await self.http.probe(ip)
                await self.record(ip, http: Self.status(outcome))
            }
        }
    }

    private func record(_ ip: String, icmp: ConnectivityStatus? = nil, http: ConnectivityStatus? = nil, unanswered: Int = 0) {
        // A node may have vanished while its probe ran: its result is dropped.
        guard liveIPs.contains(ip) else { return }
        if let icmp { results[ip, default: PathResult()].icmp = icmp }
        if let http { results[ip, default: PathResult()].http = http }
        if let recorder, let status = icmp ?? http,
           let target = nodes.values.lazy.compactMap({ $0.historyTarget(ip, protocol: icmp != nil ? "icmp" : "http") }).first {
            recorder.record(ProbeResult(target: target, status: status, unanswered: unanswered))
        }
    }

    static func status(_ outcome: ICMPOutcome) -> ConnectivityStatus {
        let now = RFC3339.string(Date())
        switch outcome {
        case .reply(let rtt, _): return ConnectivityStatus(latency: max(1, rtt), status: "", lastProbed: now)
        case .timedOut: return ConnectivityStatus(latency: 0, status: "Connection timed out", lastProbed: now)
        case .failed(let text): return ConnectivityStatus(latency: 0, status: text, lastProbed: now)
        }
    }

    static func status(_ outcome: HTTPProbe.Outcome) -> ConnectivityStatus {
        let now = RFC3339.string(Date())
        switch outcome {
        case .ok(let latency): return ConnectivityStatus(latency: latency, status: "", lastProbed: now)
        case .failed(let text): return ConnectivityStatus(latency: 0, status: text, lastProbed: now)
        }
    }
}
