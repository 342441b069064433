import Synchronization

/// All in-flight probes of one pinger. Every probe's continuation is resumed exactly once: by the first of
/// reply, deadline, send failure, cancellation or close. Resumption happens outside the lock.
final class ProbeTable: Sendable {
    struct SeqEntry {
        let probe: UInt64
        let attempt: Int
        var sentAt: Int64  // CLOCK_REALTIME ns; 0 until the echo is actually sent
    }

    struct Probe {
        let family: ICMPFamily
        let target: AddrKey
        /// Burst probes wait for every echo; nil: the first reply finishes the probe.
        let burst: Int?
        var seqs: [UInt16] = []
        /// Per echo (1-based attempt - 1): the RTT of its reply, if one came.
        var rtts: [Int64?] = []
        var outcome: ICMPOutcome?
        var continuation: CheckedContinuation<Finished, Never>?
    }

    /// What a waiting probe is resumed with.
    struct Finished: Sendable {
        var outcome: ICMPOutcome
        var rtts: [Int64?]
    }

    struct State {
        var closed = false
        var nextSeq: UInt16
        var nextProbe: UInt64 = 1
        var seqs: [UInt16: SeqEntry] = [:]
        var probes: [UInt64: Probe] = [:]
    }

    enum Allocation {
        case sequence(UInt16)
        case finished       // the probe already has an outcome: stop sending
        case exhausted      // all 65536 sequence numbers are in flight
    }

    private let state: Mutex<State>

    init(firstSequence: UInt16) {
        state = Mutex(State(nextSeq: firstSequence))
    }

    /// Registers a probe; nil once the pinger is closed.
    func register(family: ICMPFamily, target: AddrKey, burst: Int? = nil) -> UInt64? {
        state.withLock { s in
            if s.closed { return nil }
            let id = s.nextProbe
            s.nextProbe &+= 1
            s.probes[id] = Probe(family: family, target: target, burst: burst,
                                 rtts: [Int64?](repeating: nil, count: burst ?? 0))
            return id
        }
    }

    /// Allocates the next free 16-bit sequence number, skipping ones still in flight so a slow probe's
    /// sequence is never shared with a new one.
    func allocate(probe: UInt64, attempt: Int) -> Allocation {
        state.withLock { s in
            guard s.probes[probe]?.outcome == nil, s.probes[probe] != nil else { return .finished }
            if s.seqs.count >= 65536 { return .exhausted }
            var seq = s.nextSeq
            while s.seqs[seq] != nil { seq &+= 1 }
            s.nextSeq = seq &+ 1
            s.seqs[seq] = SeqEntry(probe: probe, attempt: attempt, sentAt: 0)
            s.probes[probe]?.seqs.append(seq)
            return .sequence(seq)
        }
    }

    /// Records the send time just before sendto; a reply can only match once this is set.
    func markSent(sequence: UInt16, at time: Int64) {
        state.withLock { s in s.seqs[sequence]?.sentAt = time }
    }

    func isFinished(_ probe: UInt64) -> Bool {
        state.withLock { s in s.probes[probe]?.outcome != nil || s.probes[probe] == nil }
    }

    /// Suspends until the probe has an outcome (possibly already available).
    func wait(_ probe: UInt64) async -> Finished {
        await withCheckedContinuation { (c: CheckedContinuation<Finished, Never>) in
            let ready: Finished? = state.withLock { s in
                guard let p = s.probes[probe] else { return Finished(outcome: .failed("pinger closed"), rtts: []) }
                if let o = p.outcome {
                    s.probes[probe] = nil
                    return Finished(outcome: o, rtts: p.rtts)
                }
                s.probes[probe]?.continuation = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Sets the outcome if none yet; the first caller wins, later ones are ignored.
    /// A burst that ends at its deadline with some replies is a reply (its first answered echo), not a timeout.
    func finish(_ probe: UInt64, _ outcome: ICMPOutcome) {
        let resumed = state.withLock { s in Self.finishLocked(&s, probe, outcome) }
        if let resumed { resumed.0.resume(returning: resumed.1) }
    }

    private static func finishLocked(_ s: inout State, _ probe: UInt64, _ proposed: ICMPOutcome)
        -> (CheckedContinuation<Finished, Never>, Finished)?
    {
        guard let p = s.probes[probe], p.outcome == nil else { return nil }
        var outcome = proposed
        if p.burst != nil, case .timedOut = proposed,
           let first = p.rtts.firstIndex(where: { $0 != nil }), let rtt = p.rtts[first] {
            outcome = .reply(rttNanoseconds: rtt, attempt: first + 1)
        }
        for seq in p.seqs { s.seqs[seq] = nil }  // late replies to these sequences now match nothing
        if let c = p.continuation {
            s.probes[probe] = nil
            return (c, Finished(outcome: outcome, rtts: p.rtts))
        }
        s.probes[probe]?.outcome = outcome
        s.probes[probe]?.seqs = []
        return nil
    }

    /// Called by a receive thread for each echo reply carrying our identifier and nonce. Matches sequence,
    /// family and source address; anything else is ignored.
    /// A burst probe records every reply and finishes once all its echoes are answered.
    func deliver(family: ICMPFamily, sequence: UInt16, source: AddrKey, receivedAt: Int64) {
        let resumed: (CheckedContinuation<Finished, Never>, Finished)? = state.withLock { s in
            guard let e = s.seqs[sequence], e.sentAt != 0,
                  let p = s.probes[e.probe], p.family == family, p.target == source
            else { return nil }
            let rtt = max(1, receivedAt - e.sentAt)
            guard let count = p.burst else {
                return Self.finishLocked(&s, e.probe, .reply(rttNanoseconds: rtt, attempt: e.attempt))
            }
            s.seqs[sequence] = nil  // a duplicate reply counts once
            let index = e.attempt - 1
            guard index < count, s.probes[e.probe]?.rtts[index] == nil else { return nil }
            s.probes[e.probe]?.rtts[index] = rtt
            guard s.probes[e.probe]?.rtts.allSatisfy({ $0 != nil }) == true else { return nil }
            return Self.finishLocked(&s, e.probe, .timedOut)
        }
        if let resumed { resumed.0.resume(returning: resumed.1) }
    }

    /// Fails every in-flight probe and refuses new ones.
    func closeAll() {
        let pending: [(CheckedContinuation<Finished, Never>, Finished)] = state.withLock { s in
            s.closed = true
            return Array(s.probes.keys).compactMap { Self.finishLocked(&s, $0, .failed("pinger closed")) }
        }
        for (c, f) in pending { c.resume(returning: f) }
    }

    var inFlight: Int { state.withLock { $0.probes.count } }
}
