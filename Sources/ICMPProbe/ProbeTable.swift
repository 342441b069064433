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
        var seqs: [UInt16] = []
        var outcome: ICMPOutcome?
        var continuation: CheckedContinuation<ICMPOutcome, Never>?
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
    func register(family: ICMPFamily, target: AddrKey) -> UInt64? {
        state.withLock { s in
            if s.closed { return nil }
            let id = s.nextProbe
            s.nextProbe &+= 1
            s.probes[id] = Probe(family: family, target: target)
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
    func wait(_ probe: UInt64) async -> ICMPOutcome {
        await withCheckedContinuation { (c: CheckedContinuation<ICMPOutcome, Never>) in
            let ready: ICMPOutcome? = state.withLock { s in
                guard let p = s.probes[probe] else { return .failed("pinger closed") }
                if let o = p.outcome {
                    s.probes[probe] = nil
                    return o
                }
                s.probes[probe]?.continuation = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Sets the outcome if none yet; the first caller wins, later ones are ignored.
    func finish(_ probe: UInt64, _ outcome: ICMPOutcome) {
        let c = state.withLock { s in Self.finishLocked(&s, probe, outcome) }
        c?.resume(returning: outcome)
    }

    private static func finishLocked(_ s: inout State, _ probe: UInt64, _ outcome: ICMPOutcome)
        -> CheckedContinuation<ICMPOutcome, Never>?
    {
        guard let p = s.probes[probe], p.outcome == nil else { return nil }
        for seq in p.seqs { s.seqs[seq] = nil }  // late replies to these sequences now match nothing
        if let c = p.continuation {
            s.probes[probe] = nil
            return c
        }
        s.probes[probe]?.outcome = outcome
        s.probes[probe]?.seqs = []
        return nil
    }

    /// Called by a receive thread for each echo reply carrying our identifier and nonce. Matches sequence,
    /// family and source address; anything else is ignored.
    func deliver(family: ICMPFamily, sequence: UInt16, source: AddrKey, receivedAt: Int64) {
        var outcome = ICMPOutcome.timedOut
        let c: CheckedContinuation<ICMPOutcome, Never>? = state.withLock { s in
            guard let e = s.seqs[sequence], e.sentAt != 0,
                  let p = s.probes[e.probe], p.family == family, p.target == source
            else { return nil }
            outcome = .reply(rttNanoseconds: max(1, receivedAt - e.sentAt), attempt: e.attempt)
            return Self.finishLocked(&s, e.probe, outcome)
        }
        c?.resume(returning: outcome)
    }

    /// Fails every in-flight probe and refuses new ones.
    func closeAll() {
        let pending: [CheckedContinuation<ICMPOutcome, Never>] = state.withLock { s in
            s.closed = true
            var cs: [CheckedContinuation<ICMPOutcome, Never>] = []
            for id in Array(s.probes.keys) {
                if let c = Self.finishLocked(&s, id, .failed("pinger closed")) { cs.append(c) }
            }
            return cs
        }
        for c in pending { c.resume(returning: .failed("pinger closed")) }
    }

    var inFlight: Int { state.withLock { $0.probes.count } }
}
