import HealthDaemon
import HeapModule

/// A discrete-event simulation of a cluster's fast detection: every agent runs the real
/// `DetectionScheduler`, `RTTEstimator` and `PathStatistics`, on simulated time, with a modelled
/// network (per-echo loss, RTT plus per-node delay, black holes) instead of sockets. The agent loop
/// is mirrored exactly: wake at the scheduler's next due time or after one detection tick, start
/// the due probes, and feed each burst's outcome back.
public final class DetectionSimulation {
    public struct Settings: Sendable {
        public var nodes: Int
        public var detection = DetectionScheduler.Config()
        public var burst = 5
        public var spacing: Duration = .milliseconds(20)
        public var tick: Duration = .milliseconds(100)
        /// Base RTT of every path and the one-way delay of a gossip datagram.
        public var rtt: Duration = .microseconds(100)
        public var gossipDelay: Duration = .microseconds(300)
        /// Addresses probed per node on confirmation (host and health endpoint).
        public var addressesPerNode = 2
        public var seed: UInt64 = 1

        public init(nodes: Int) { self.nodes = nodes }
    }

    public struct Detection: Sendable, Equatable {
        public var observer: Int
        public var peer: Int
        public var down: Bool
        public var at: Duration
    }

    struct Agent {
        var scheduler: DetectionScheduler
        var paths: [Int: PathStatistics] = [:]
        var bursts = 0
        var echoes = 0
    }

    enum Kind {
        case wake(Int)
        case done(Int, DetectionScheduler.Probe, answered: Bool)
        case gossip(to: Int, peer: String)
        case action(@Sendable (DetectionSimulation) -> Void)
    }

    struct Event: Comparable {
        var at: Duration
        var seq: Int
        var kind: Kind
        static func < (a: Event, b: Event) -> Bool { (a.at, a.seq) < (b.at, b.seq) }
        static func == (a: Event, b: Event) -> Bool { a.at == b.at && a.seq == b.seq }
    }

    public let settings: Settings
    public private(set) var now: Duration = .zero
    private var queue = Heap<Event>()
    private var seq = 0
    private var agents: [Agent]
    private var rng: SplitMix
    private let names: [String]
    private let index: [String: Int]

    /// Faults, changeable at any simulated time.
    public var blackholed: Set<Int> = []
    /// Inbound loss per node, as a fraction of packets (applies to echoes in both directions and gossip).
    public var inboundLoss: [Int: Double] = [:]
    public var lossEverywhere = 0.0
    /// Extra inbound delay of a node: mean and uniform spread.
    public var delay: [Int: (mean: Duration, spread: Duration)] = [:]

    public private(set) var detections: [Detection] = []
    public private(set) var datagrams = 0
    public private(set) var suspicions = 0

    public init(_ settings: Settings) {
        self.settings = settings
        names = (0..<settings.nodes).map { "sim/node-\($0)" }
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        rng = SplitMix(seed: settings.seed)
        agents = names.map { Agent(scheduler: DetectionScheduler(localName: $0, config: settings.detection)) }
        // One ring and one member set, shared by every agent (copy-on-write), as every agent
        // would compute the same ones.
        let ring = DetectionScheduler.Ring(names)
        let members = Set(names)
        for i in agents.indices {
            agents[i].scheduler.setPeers(members: members, ring: ring, now: .zero)
            // Agents start at random moments within one tick, as real ones do.
            schedule(.wake(i), at: settings.tick * rng.unit())
        }
    }

    public func at(_ time: Duration, _ action: @escaping @Sendable (DetectionSimulation) -> Void) {
        schedule(.action(action), at: time)
    }

    public func name(_ node: Int) -> String { names[node] }

    private func schedule(_ kind: Kind, at time: Duration) {
        seq += 1
        queue.insert(Event(at: time, seq: seq, kind: kind))
    }

    /// Runs events up to `time`.
    public func run(until time: Duration) {
        while let next = queue.min, next.at <= time {
            _ = queue.popMin()
            now = next.at
            handle(next.kind)
        }
        now = time
    }

    private func handle(_ kind: Kind) {
        switch kind {
        case .wake(let a):
            for probe in agents[a].scheduler.takeDue(now: now) { start(probe, by: a) }
            let next = min(agents[a].scheduler.nextDue ?? now + settings.tick, now + settings.tick)
            schedule(.wake(a), at: max(next, now))
        case let .done(a, probe, answered):
            for event in agents[a].scheduler.finished(probe, answered: answered, now: now) {
                switch event {
                case .suspect(let peer):
                    suspicions += 1
                    for b in agents.indices where b != a && names[b] != peer {
                        datagrams += 1
                        guard delivered(from: a, to: b) else { continue }
                        schedule(.gossip(to: b, peer: peer), at: now + settings.gossipDelay)
                    }
                case .down(let peer):
                    detections.append(Detection(observer: a, peer: index[peer] ?? -1, down: true, at: now))
                case .recovered(let peer):
                    detections.append(Detection(observer: a, peer: index[peer] ?? -1, down: false, at: now))
                }
            }
        case let .gossip(b, peer):
            agents[b].scheduler.suspicionHeard(peer, now: now)
        case .action(let action):
            action(self)
        }
    }

    private func loss(_ node: Int) -> Double { max(lossEverywhere, inboundLoss[node] ?? 0) }

    private func delivered(from a: Int, to b: Int) -> Bool {
        !blackholed.contains(a) && !blackholed.contains(b) && rng.unit() >= loss(b)
    }

    /// One burst per address probed; the probe is done when the slowest burst is.
    private func start(_ probe: DetectionScheduler.Probe, by a: Int) {
        guard let peer = index[probe.peer] else { return }
        let addresses = probe.reason == .watch ? 1 : settings.addressesPerNode
        var answered = true
        var longest = Duration.zero
        for address in 0..<addresses {
            let key = peer * settings.addressesPerNode + address
            var path = agents[a].paths[key] ?? seeded()
            let timeout = path.rtt.timeout
            var rtts: [Int64?] = []
            for _ in 0..<settings.burst {
                // The echo enters the peer, the reply enters the prober.
                guard delivered(from: a, to: peer), delivered(from: peer, to: a) else {
                    rtts.append(nil)
                    continue
                }
                var rtt = settings.rtt
                if let d = delay[peer] { rtt += d.mean + d.spread * (2 * rng.unit() - 1) }
                rtts.append(rtt.nanosecondCount)
            }
            let received = rtts.compactMap { $0 }
            let lastSent = settings.spacing * (settings.burst - 1)
            let took = received.count == settings.burst
                ? lastSent + .nanoseconds(received.max() ?? 0)
                : lastSent + timeout
            longest = max(longest, took)
            answered = answered && !received.isEmpty
            path.observe(burst: rtts)
            agents[a].paths[key] = path
            agents[a].bursts += 1
            agents[a].echoes += settings.burst
        }
        schedule(.done(a, probe, answered: answered), at: now + longest)
    }

    /// A path the agent has not probed on the fast path yet: its first full sweep, which probes
    /// every address at start, has taught it the RTT.
    private func seeded() -> PathStatistics {
        var path = PathStatistics()
        path.observe(burst: [Int64?](repeating: settings.rtt.nanosecondCount, count: settings.burst))
        return path
    }

    /// Bursts and echoes every agent sent on the fast path so far.
    public var bursts: Int { agents.reduce(0) { $0 + $1.bursts } }
    public var echoes: Int { agents.reduce(0) { $0 + $1.echoes } }
    public func state(of peer: Int, seenBy observer: Int) -> DetectionScheduler.State? {
        agents[observer].scheduler.state(of: names[peer])
    }
}

extension Duration {
    var nanosecondCount: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// A small deterministic generator, so a simulation run is repeatable from its seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
