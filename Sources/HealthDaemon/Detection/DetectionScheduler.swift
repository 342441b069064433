/// Fast failure detection on top of upstream's full sweep, as a pure state machine on an injected
/// clock (times are offsets from any fixed origin), so the agent and the simulator drive the same
/// logic.
///
/// - Each node watches `watchers` peers: its successors on a ring ordered by a hash of the node
///   names. Every agent computes the same ring, so every node has exactly that many watchers,
///   whatever the cluster size, and the per-agent watch rate is `watchers / watchPeriod`.
/// - A failed watch probe makes the peer *suspect*: the agent tells every other agent (gossip)
///   and confirms with its own direct probe at once.
/// - An agent that hears a suspicion confirms with its own direct probe too. Only a failed direct
///   probe of this agent's own marks the peer down, so every node's status stays its own evidence,
///   and a spoofed or mistaken suspicion costs one probe, never a false report.
/// - A down peer is rechecked directly until it answers; then it is reported recovered.
public struct DetectionScheduler: Sendable {
    public struct Config: Sendable, Equatable {
        /// How many peers each node watches (and so how many nodes watch each node).
        public var watchers: Int
        public var watchPeriod: Duration
        /// How often a down peer is rechecked, stretched when many are down (see `probeBudget`).
        public var recheckPeriod: Duration
        /// Probes per second the fast path may average (watch + recheck); confirmations of fresh
        /// suspicions are rare events and not throttled.
        public var probeBudget: Double
        /// A suspicion heard within this long of a successful direct probe of the peer is ignored:
        /// several watchers report the same event, and one confirmation answers them all.
        public var suspicionQuiet: Duration

        public init(watchers: Int = 3, watchPeriod: Duration = .seconds(1), recheckPeriod: Duration = .seconds(1),
                    probeBudget: Double = 15, suspicionQuiet: Duration = .milliseconds(500)) {
            self.watchers = watchers
            self.watchPeriod = watchPeriod
            self.recheckPeriod = recheckPeriod
            self.probeBudget = probeBudget
            self.suspicionQuiet = suspicionQuiet
        }
    }

    public enum State: Sendable, Equatable {
        case healthy, suspect, down
    }

    /// Why a probe is due; the prober probes the watched primary address for `.watch` and every
    /// address of the peer otherwise.
    public enum Reason: Sendable, Equatable {
        case watch, confirm, recheck
    }

    public struct Probe: Sendable, Equatable {
        public var peer: String
        public var reason: Reason
    }

    public enum Event: Sendable, Equatable {
        /// Tell the other agents: this agent's watch probe of the peer failed.
        case suspect(String)
        /// This agent's own direct probe confirmed the peer unreachable.
        case down(String)
        /// A down peer answers this agent's direct probe again.
        case recovered(String)
    }

    struct Peer: Sendable {
        var state = State.healthy
        var watched = false
        var due: Duration?
        var inFlight: Reason?
        var lastAnswered: Duration?
    }

    public let localName: String
    public let config: Config
    /// Every node name (the local one may be among them).
    private var members: Set<String> = []
    /// Only peers that are watched or not plainly healthy, so an agent (and a simulation of
    /// thousands of agents) holds O(watched + failing) state, not O(cluster).
    private var peers: [String: Peer] = [:]
    /// Peers with a due time (watched, suspect or down): the only ones `takeDue` looks at, so a tick
    /// costs O(watched + failing), not O(cluster).
    private var scheduled: Set<String> = []
    private var downSet: Set<String> = []

    public init(localName: String, config: Config = Config()) {
        self.localName = localName
        self.config = config
    }

    // MARK: Membership

    /// The node names ordered by a stable hash (FNV-1a; Swift's `hashValue` is seeded per process),
    /// the same in every agent. Build it once and share it when many schedulers use one cluster.
    public struct Ring: Sendable {
        let order: [String]
        let position: [String: Int]

        public init(_ names: some Sequence<String>) {
            order = Set(names).sorted { (DetectionScheduler.ringKey($0), $0) < (DetectionScheduler.ringKey($1), $1) }
            position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        }

        /// The `count` names after `name` on the ring (fewer when the ring is smaller).
        public func successors(of name: String, count: Int) -> [String] {
            guard let me = position[name], order.count > 1 else { return [] }
            return (1...min(count, order.count - 1)).map { order[(me + $0) % order.count] }
        }
    }

    static func ringKey(_ name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// The `watchers` successors of `local` on the ring of `names` (which may include `local`).
    public static func watchSet(local: String, names: [String], watchers: Int) -> [String] {
        Ring(names + [local]).successors(of: local, count: watchers)
    }

    /// Replaces the peer list (the local node is ignored). Known peers keep their state; new
    /// watched peers get their first probe spread over one watch period, by name, so a cluster's
    /// agents do not all probe in step.
    public mutating func setPeers(_ names: [String], now: Duration) {
        setPeers(members: Set(names), ring: Ring(names + [localName]), now: now)
    }

    /// `setPeers` with the ring built by the caller (`ring` must hold `members` and the local name).
    public mutating func setPeers(members: Set<String>, ring: Ring, now: Duration) {
        self.members = members
        let watch = Set(ring.successors(of: localName, count: config.watchers).filter { members.contains($0) })
        let known = peers.keys.filter { members.contains($0) && $0 != localName }
        peers = peers.filter { members.contains($0.key) && $0.key != localName }
        scheduled = scheduled.filter { peers[$0] != nil }
        downSet = downSet.filter { peers[$0] != nil }
        for name in watch.union(known) {
            var peer = peers[name] ?? Peer()
            let wasWatched = peer.watched
            peer.watched = watch.contains(name)
            if peer.state == .healthy, peer.inFlight == nil {
                if peer.watched && !wasWatched {
                    let phase = Double(Self.ringKey(localName + "→" + name) % 1000) / 1000
                    peer.due = now + config.watchPeriod * phase
                } else if !peer.watched {
                    peer.due = nil
                }
            }
            store(name, peer)
        }
    }

    private mutating func store(_ name: String, _ peer: Peer) {
        // A plainly healthy, unwatched peer needs no entry (a recent answer only matters while
        // suspicions about it may still arrive, which the entry's removal merely makes confirm again).
        if peer.state == .healthy, !peer.watched, peer.inFlight == nil, peer.due == nil,
           peer.lastAnswered == nil {
            peers[name] = nil
        } else {
            peers[name] = peer
        }
        if peer.due != nil { scheduled.insert(name) } else { scheduled.remove(name) }
        if peer.state == .down { downSet.insert(name) } else { downSet.remove(name) }
    }

    public var watched: [String] { peers.filter(\.value.watched).map(\.key).sorted() }
    public func state(of peer: String) -> State? {
        members.contains(peer) && peer != localName ? (peers[peer]?.state ?? .healthy) : nil
    }
    public var downPeers: [String] { downSet.sorted() }
    public var suspectCount: Int { peers.values.count { $0.state == .suspect } }
    private var downCount: Int { downSet.count }

    // MARK: Timing

    /// Rechecks of down peers share the budget left by the watch probes, so a rack going dark
    /// cannot multiply an agent's probe rate.
    var recheckPeriod: Duration {
        let down = downCount
        let watchRate = Double(min(config.watchers, max(0, members.count - 1))) / config.watchPeriod.seconds
        let spare = max(config.probeBudget - watchRate, 1)
        return max(config.recheckPeriod, .seconds(Double(down) / spare))
    }

    /// The earliest time a probe is due, if any (the caller sleeps until then or until an event).
    public var nextDue: Duration? {
        scheduled.compactMap { peers[$0]?.due }.min()
    }

    /// The probes due at `now`; each is in flight until `finished` is called for it.
    public mutating func takeDue(now: Duration) -> [Probe] {
        var out: [Probe] = []
        for name in scheduled {
            guard var peer = peers[name], peer.inFlight == nil, let due = peer.due, due <= now else { continue }
            let reason: Reason = switch peer.state {
            case .healthy: .watch
            case .suspect: .confirm
            case .down: .recheck
            }
            peer.inFlight = reason
            peer.due = nil
            peers[name] = peer
            out.append(Probe(peer: name, reason: reason))
        }
        scheduled.subtract(out.map(\.peer))
        return out.sorted { $0.peer < $1.peer }
    }

    /// The outcome of a probe returned by `takeDue`. `answered`: the peer replied (for a watch
    /// probe, its watched address; otherwise every address probed).
    public mutating func finished(_ probe: Probe, answered: Bool, now: Duration) -> [Event] {
        guard var peer = peers[probe.peer], peer.inFlight == probe.reason else { return [] }
        peer.inFlight = nil
        var events: [Event] = []
        if answered { peer.lastAnswered = now }
        switch (probe.reason, answered) {
        case (.watch, true), (.confirm, true):
            peer.state = .healthy
        case (.watch, false):
            peer.state = .suspect
            events.append(.suspect(probe.peer))
        case (.confirm, false), (.recheck, false):
            if peer.state != .down { events.append(.down(probe.peer)) }
            peer.state = .down
        case (.recheck, true):
            peer.state = .healthy
            events.append(.recovered(probe.peer))
        }
        switch peer.state {
        case .healthy: peer.due = peer.watched ? now + config.watchPeriod : nil
        case .suspect: peer.due = now
        case .down: peer.due = now + recheckPeriod
        }
        store(probe.peer, peer)
        return events
    }

    /// Another agent suspects `peer`. Returns whether a confirmation probe was scheduled.
    @discardableResult
    public mutating func suspicionHeard(_ peer: String, now: Duration) -> Bool {
        guard members.contains(peer), peer != localName else { return false }
        var p = peers[peer] ?? Peer()
        guard p.state == .healthy, p.inFlight == nil else { return false }
        if let answered = p.lastAnswered, now - answered < config.suspicionQuiet { return false }
        p.state = .suspect
        p.due = now
        store(peer, p)
        return true
    }
}

extension Duration {
    /// Seconds as a Double (for rates and reports).
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
