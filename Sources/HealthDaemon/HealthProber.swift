import Foundation
import HTTPSupport
import HealthAPI
import HealthHistory
import ICMPProbe
import Logging
import NIOCore

/// Probes every node's addresses over ICMP and HTTP and keeps the latest result per IP.
///
/// Unlike upstream, results are visible as soon as each probe finishes (upstream publishes a round
/// only at the next tick, so its API can be two intervals old: cilium#18559), and `probeNow` runs a
/// bounded fresh round instead of returning the cache (cilium#2318, #38169).
///
/// Two loops: upstream's full sweep (`run`, interval formula and ratio unchanged) and fast
/// detection (`runDetection`, driven by `DetectionScheduler`). Every ICMP probe is a sequenced
/// burst whose timeout is learnt from the path's RTT, and feeds the path's loss and jitter.
public actor HealthProber {
    struct PathResult {
        var icmp: ConnectivityStatus?
        var http: ConnectivityStatus?
        /// When the probes behind `icmp` and `http` started: a slow probe (an HTTP timeout that began
        /// during an outage) must not overwrite what a later one found (cilium#4484).
        var icmpStarted: ContinuousClock.Instant?
        var httpStarted: ContinuousClock.Instant?
    }

    public struct Settings: Sendable, Equatable {
        /// Echoes per ICMP probe (upstream: up to 3, stopping at the first reply).
        public var icmpBurst: Int
        public var burstSpacing: Duration
        public var detection: DetectionScheduler.Config
        /// Probe nodes the agent reports NotReady or Unschedulable too (default: list them with
        /// their state, unprobed, so a cordoned node is not counted unreachable).
        public var probeUnavailableNodes: Bool
        /// How often the node list is asked for between rounds.
        public var nodeRefresh: Duration

        public static let burstRange = 1...20

        public init(icmpBurst: Int = 5, burstSpacing: Duration = .milliseconds(20),
                    detection: DetectionScheduler.Config = .init(), probeUnavailableNodes: Bool = false,
                    nodeRefresh: Duration = HealthProber.defaultNodeRefresh) {
            self.icmpBurst = icmpBurst
            self.burstSpacing = burstSpacing
            self.detection = detection
            self.probeUnavailableNodes = probeUnavailableNodes
            self.nodeRefresh = nodeRefresh
        }
    }

    private let source: any NodeSource
    private let pinger: ICMPPinger
    private let http: HTTPProbe
    private let interval: ProbeInterval
    private let settings: Settings
    private let logger: Logger
    public nonisolated let metrics: HealthMetrics
    /// Told every finished probe result (the history); nil keeps nothing.
    private let recorder: (any ProbeRecorder)?
    /// Suspicions for the gossip to send (one consumer).
    public nonisolated let suspicions: AsyncStream<Suspicion>
    private let suspicionSink: AsyncStream<Suspicion>.Continuation
    private let origin = ContinuousClock.now
    private var detector = DetectionScheduler(localName: "")
    private var stats: [String: PathStatistics] = [:]
    private var selfMeasure = ProberSelfMeasure()
    /// Which node owns each probed address.
    private var owner: [String: String] = [:]
    /// Addresses whose HTTP probe failed: retried with backoff until it succeeds, so a responder
    /// that was still starting (cilium#11874) or a path that healed does not stay red for an interval.
    private var httpRetry: [String: (due: Duration, backoff: Duration)] = [:]
    static let httpRetryFirst: Duration = .seconds(2)
    static let httpRetryMax: Duration = .seconds(30)

    private var localName = ""
    private var clientID: Int64 = 0
    private var nodes: [String: NodeProbeTargets] = [:]
    /// `nodes.keys` sorted, kept in step with `nodes` (the status and every round list nodes in this order).
    private var sortedNames: [String] = []
    /// Size of the last encoded status, so the next one is written into one allocation.
    private var statusBytes = 4096
    private var results: [String: PathResult] = [:]
    /// `targetIPs` as a set, kept in step with `nodes` so recording a result is O(1).
    private var liveIPs: Set<String> = []
    private var roundStart = Date()
    private var currentInterval: Duration
    private var inFlightProbe: Task<HealthStatusResponse, Never>?

    public init(source: any NodeSource, pinger: ICMPPinger, http: HTTPProbe, interval: ProbeInterval,
                settings: Settings = Settings(), metrics: HealthMetrics = HealthMetrics(),
                recorder: (any ProbeRecorder)? = nil, logger: Logger) {
        self.metrics = metrics
        self.recorder = recorder
        self.source = source
        self.pinger = pinger
        self.http = http
        self.interval = interval
        self.settings = settings
        self.logger = logger
        currentInterval = interval.duration(ipCount: 0)
        (suspicions, suspicionSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    /// Time on the detection clock (the scheduler's injected time).
    private var now: Duration { ContinuousClock.now - origin }

    // MARK: Nodes

    /// Distinct addresses in node-name order, so launches are spread deterministically.
    var targetIPs: [String] {
        var seen = Set<String>()
        return sortedNames.flatMap { nodes[$0]?.allIPs ?? [] }.filter { seen.insert($0).inserted }
    }

    /// Applies the agent's node diff. On failure upstream drops every node and restarts from a full list.
    @discardableResult
    public func refreshNodes() async -> Bool {
        do {
            let diff = try await source.fetch(clientID: clientID)
            // Most refreshes (every 2 s) bring an empty diff: nothing to recompute then.
            let unchanged = clientID != 0 && diff.clientID == clientID && diff.self_ == localName
                && (diff.nodesRemoved ?? []).isEmpty && (diff.nodesAdded ?? []).isEmpty
            if clientID == 0 { nodes = [:] }
            clientID = diff.clientID
            localName = diff.self_
            for removed in diff.nodesRemoved ?? [] { nodes[removed.name] = nil }
            for added in diff.nodesAdded ?? [] {
                nodes[added.name] = NodeProbeTargets(added, probeUnavailable: settings.probeUnavailableNodes)
            }
            if !unchanged { nodesChanged() }
            return true
        } catch {
            if clientID != 0 || !nodes.isEmpty {
                logger.warning("cannot fetch cluster nodes from agent, dropping all nodes", metadata: ["error": "\(error)"])
            }
            clientID = 0
            nodes = [:]
            nodesChanged()
            return false
        }
    }

    private func nodesChanged() {
        sortedNames = nodes.keys.sorted()
        liveIPs = Set(targetIPs)
        results = results.filter { liveIPs.contains($0.key) }
        stats = stats.filter { liveIPs.contains($0.key) }
        httpRetry = httpRetry.filter { liveIPs.contains($0.key) }
        owner = [:]
        for (name, node) in nodes { for ip in node.allIPs { owner[ip] = name } }
        if detector.localName != localName {
            detector = DetectionScheduler(localName: localName, config: settings.detection)
        }
        detector.setPeers(nodes.filter { !$0.value.notProbed }.map(\.key), now: now)
    }

    // MARK: Status

    public func status() -> HealthStatusResponse {
        HealthStatusResponse(timestamp: RFC3339.string(roundStart), probeInterval: probeIntervalText, local: local,
                             nodes: nodeStatuses())
    }

    /// `status()` as the JSON body of `GET /v1beta/status`, byte for byte `JSONResponse.encode(status())`,
    /// written node by node without holding the whole status.
    public func encodedStatus() throws -> ByteBuffer {
        var writer = StatusJSONWriter(capacity: statusBytes + statusBytes / 8)
        try writer.begin(local: local)
        var first = true
        for name in sortedNames {
            guard let node = nodeStatus(name) else { continue }
            try writer.node(node, first: first)
            first = false
        }
        try writer.end(probeInterval: probeIntervalText, timestamp: RFC3339.string(roundStart))
        statusBytes = writer.buffer.readableBytes
        return writer.buffer
    }

    /// The agent's own name (`status().local?.name`) without building the status.
    public var localNodeName: String? { localName.isEmpty ? nil : localName }

    private var local: SelfStatus? { localNodeName.map(SelfStatus.init(name:)) }
    private var probeIntervalText: String { goDurationString(nanoseconds: currentInterval.nanoseconds) }

    private func nodeStatuses() -> [NodeStatus] {
        sortedNames.compactMap(nodeStatus)
    }

    private func nodeStatus(_ name: String) -> NodeStatus? {
        guard let t = nodes[name] else { return nil }
        return NodeStatus(name: name, host: addresses(t.host), healthEndpoint: addresses(t.healthEndpoint),
                          nodeState: t.state.isEmpty ? nil : t.state, notProbed: t.notProbed)
    }

    /// The status plus loss, jitter and learnt timeouts per path and the prober's self-measurement.
    public func wideStatus() -> WideStatusResponse {
        let t = now
        var paths: [PathStatisticsStatus] = []
        for name in sortedNames {
            guard let node = nodes[name], !node.notProbed else { continue }
            for (type, ips) in [("node", node.host), ("endpoint", node.healthEndpoint)] {
                for ip in ips {
                    let s = stats[ip] ?? PathStatistics()
                    paths.append(PathStatisticsStatus(
                        node: name, ip: ip, type: type, echoes: s.echoes, replies: s.replies, lossPercent: s.loss * 100,
                        jitter: Int64(s.jitterNanoseconds.rounded()), rtt: s.rtt.smoothed?.nanoseconds ?? 0,
                        minRtt: s.minimumRTT ?? 0, timeout: s.rtt.timeout.nanoseconds))
                }
            }
        }
        let prober = ProberSelfStatus(
            schedulingDelayP50: selfMeasure.delay(quantile: 0.5, now: t).nanoseconds,
            schedulingDelayP99: selfMeasure.delay(quantile: 0.99, now: t).nanoseconds,
            schedulingDelayMax: selfMeasure.delay(quantile: 1, now: t).nanoseconds,
            probesPerSecond: selfMeasure.burstRate(now: t),
            watched: detector.watched, suspect: detector.suspectCount, down: detector.downPeers)
        return WideStatusResponse(status: status(), prober: prober, paths: paths)
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

    /// How often the node list is asked for between rounds (`Settings.nodeRefresh`), so a node that
    /// joins (or the rest of the cluster, for an agent that started before its peers registered) is
    /// probed at once: by default every 2 s.
    public static let defaultNodeRefresh: Duration = .seconds(2)
    /// For an agent that answers from memory (a watch keeps its Kubernetes view current): a new
    /// Node is probed, and shown, within a second of its object.
    public static let watchedNodeRefresh: Duration = .milliseconds(500)

    /// The periodic loop: waits for the agent, then runs rate-limited rounds until cancelled.
    /// The first round probes every address at once, so a (re)started agent's view is filled
    /// within one probe deadline instead of one interval (which can be minutes); later rounds
    /// are spread over the interval. Addresses that appear meanwhile are probed when they appear.
    public func run() async {
        while !Task.isCancelled, !(await refreshNodes()) {
            try? await Task.sleep(for: .seconds(1))
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runDetection() }
            await self.runSweep()
            group.cancelAll()
        }
    }

    /// Upstream's full sweep: every address once per interval.
    private func runSweep() async {
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

    /// Until `until`: every `nodeRefresh`, asks for the node list and probes addresses not seen yet
    /// (or seen, dropped and back again).
    private func probeNewNodes(alreadyProbed: Set<String>, until: ContinuousClock.Instant) async {
        var probed = alreadyProbed
        while !Task.isCancelled, ContinuousClock.now + settings.nodeRefresh < until {
            do { try await Task.sleep(for: settings.nodeRefresh) } catch { return }
            await refreshNodes()
            // An address that left (a node cordoned, or removed) and came back has no result any more.
            probed.formIntersection(liveIPs)
            let fresh = targetIPs.filter { !probed.contains($0) }
            guard !fresh.isEmpty else { continue }
            probed.formUnion(fresh)
            await launch(fresh, spreadOver: nil)
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

    /// Launches one probe pair per IP, evenly spaced across `spreadOver` (upstream's token bucket:
    /// one token per interval/ipCount, burst 1), or across `LaunchSchedule.quickSpread` when nil.
    func runRound(_ ips: [String], spreadOver: Duration?) async {
        roundStart = Date()
        await launch(ips, spreadOver: spreadOver)
    }

    /// `runRound` without starting a round (addresses that appeared between rounds).
    private func launch(_ ips: [String], spreadOver: Duration?) async {
        let clockStart = ContinuousClock.now
        // Discarding: a plain task group keeps every finished probe's task until the round ends.
        await withDiscardingTaskGroup { group in
            let offsets = LaunchSchedule.offsets(count: ips.count, across: spreadOver ?? LaunchSchedule.quickSpread(count: ips.count))
            for (i, ip) in ips.enumerated() {
                if offsets[i] > .zero {
                    do { try await Task.sleep(until: clockStart + offsets[i], clock: .continuous) } catch { break }
                }
                group.addTask { await self.probe(ip) }
            }
        }
    }

    /// A sweep probe: ICMP burst and HTTP at once, both published as upstream does. A failed burst
    /// also makes the fast path confirm and then recheck the node, so its recovery shows at once.
    private func probe(_ ip: String, icmp: Bool = true) async {
        await withTaskGroup(of: Void.self) { group in
            if icmp {
                group.addTask {
                    let started = ContinuousClock.now
                    let burst = await self.burst(ip)
                    let status = Self.status(burst.outcome)
                    await self.record(ip, icmp: status, started: started, echoes: burst.sent ? burst.rtts : nil)
                    if burst.sent, burst.received == 0 { await self.suspect(owning: ip) }
                }
            }
            group.addTask { await self.probeHTTP(ip) }
        }
    }

    private func probeHTTP(_ ip: String) async {
        let started = ContinuousClock.now
        let outcome = await http.probe(ip)
        record(ip, http: Self.status(outcome), started: started)
        if case .ok = outcome {
            httpRetry[ip] = nil
        } else if liveIPs.contains(ip) {
            let backoff = httpRetry[ip].map { min($0.backoff * 2, Self.httpRetryMax) } ?? Self.httpRetryFirst
            httpRetry[ip] = (now + backoff, backoff)
        }
    }

    /// HTTP retries that are due, taken out of the queue (a failure puts them back with more backoff).
    private func takeDueHTTPRetries(now t: Duration) -> [String] {
        let due = httpRetry.filter { $0.value.due <= t }.map(\.key)
        for ip in due { httpRetry[ip]?.due = .seconds(Int64.max / 4) }
        return due
    }

    /// One ICMP burst, timed out by what the path's RTT taught us; feeds the path's loss and jitter.
    private func burst(_ ip: String) async -> ICMPBurst {
        let timeout = stats[ip]?.rtt.timeout ?? RTTEstimator.initialTimeout
        selfMeasure.burstSent(now: now)
        let result = await pinger.burst(ip, count: settings.icmpBurst, spacing: settings.burstSpacing, timeout: timeout)
        if result.sent, liveIPs.contains(ip) { stats[ip, default: PathStatistics()].observe(burst: result.rtts) }
        return result
    }

    // MARK: Fast detection

    /// Longest sleep of the detection loop, so a suspicion heard from another agent waits at most this.
    static let detectionTick: Duration = .milliseconds(100)

    /// Runs the probes `DetectionScheduler` asks for, until cancelled, and measures how late its own
    /// timers fire (reported as the prober's scheduling delay).
    func runDetection() async {
        await withDiscardingTaskGroup { group in
            var intended = now
            while !Task.isCancelled {
                let t = now
                selfMeasure.timerFired(intended: intended, now: t)
                for probe in detector.takeDue(now: t) {
                    group.addTask { await self.fastProbe(probe) }
                }
                for ip in takeDueHTTPRetries(now: t) {
                    group.addTask { await self.probeHTTP(ip) }
                }
                intended = max(t, min(detector.nextDue ?? t + Self.detectionTick, t + Self.detectionTick))
                do { try await Task.sleep(until: origin + intended, clock: .continuous) } catch { break }
            }
            group.cancelAll()
        }
    }

    /// A watch probe publishes only successes (a failure is a suspicion until confirmed); a
    /// confirmation or recheck publishes whatever it finds, address by address.
    private func fastProbe(_ probe: DetectionScheduler.Probe) async {
        let ips = nodes[probe.peer].map { probe.reason == .watch ? Array($0.host.prefix(1)) : $0.allIPs } ?? []
        let started = ContinuousClock.now
        let bursts = await withTaskGroup(of: (String, ICMPBurst).self) { group in
            for ip in ips { group.addTask { (ip, await self.burst(ip)) } }
            var all: [(String, ICMPBurst)] = []
            while let next = await group.next() { all.append(next) }
            return all
        }
        for (ip, burst) in bursts where probe.reason != .watch || burst.received > 0 {
            record(ip, icmp: Self.status(burst.outcome), started: started)
        }
        let answered = !bursts.isEmpty && bursts.allSatisfy { $0.1.received > 0 }
        for event in detector.finished(probe, answered: answered, now: now) {
            switch event {
            case .suspect(let peer):
                metrics.detected(.suspicionSent)
                let recipients = nodes.filter { $0.key != peer && $0.key != localName }.keys.sorted()
                    .compactMap { nodes[$0]?.host.first }
                suspicionSink.yield(Suspicion(peer: peer, recipients: recipients))
            case .down(let peer):
                metrics.detected(.down)
                logger.info("peer unreachable (confirmed by direct probe)", metadata: ["peer": "\(peer)"])
            case .recovered(let peer):
                metrics.detected(.recovered)
                logger.info("peer reachable again", metadata: ["peer": "\(peer)"])
                // The HTTP results of the outage would otherwise stand until the sweep comes round.
                await withTaskGroup(of: Void.self) { group in
                    for ip in nodes[peer]?.allIPs ?? [] { group.addTask { await self.probe(ip, icmp: false) } }
                }
            }
        }
    }

    /// Another agent's watch probe of `peer` failed: confirm with our own probe.
    public func suspicionHeard(_ peer: String) {
        if detector.suspicionHeard(peer, now: now) { metrics.detected(.suspicionHeard) }
    }

    private func suspect(owning ip: String) {
        guard let peer = owner[ip], peer != localName else { return }
        detector.suspicionHeard(peer, now: now)
    }

    /// The one place a finished probe's result is published (the status, and anything that records it).
    func record(_ ip: String, icmp: ConnectivityStatus? = nil, http: ConnectivityStatus? = nil,
                        started: ContinuousClock.Instant, echoes: [Int64?]? = nil) {
        // A node may have vanished while its probe ran: its result is dropped.
        guard liveIPs.contains(ip) else { return }
        var r = results[ip] ?? PathResult()
        if let icmp, r.icmpStarted.map({ $0 <= started }) ?? true {
            r.icmp = icmp
            r.icmpStarted = started
        }
        if let http, r.httpStarted.map({ $0 <= started }) ?? true {
            r.http = http
            r.httpStarted = started
        }
        results[ip] = r
        // Every finished probe goes to the history, also one a later probe's result overtook; an
        // ICMP burst as one sample per echo, so loss and percentiles count echoes.
        if let recorder, let status = icmp ?? http,
           let target = nodes.values.lazy.compactMap({ $0.historyTarget(ip, protocol: icmp != nil ? "icmp" : "http") }).first {
            if let echoes, !echoes.isEmpty {
                for rtt in echoes {
                    let echo = rtt.map { ConnectivityStatus(latency: max(1, $0)) } ?? ConnectivityStatus(status: "Connection timed out")
                    recorder.record(ProbeResult(target: target, status: echo, unanswered: 0))
                }
            } else {
                recorder.record(ProbeResult(target: target, status: status, unanswered: 0))
            }
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
