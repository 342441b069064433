import Glibc
import Synchronization

/// ICMP echo prober with one raw socket and one receive thread per address family, shared by any number of
/// concurrent `ping` calls. Behaviour follows cilium-health 1.17+ (pro-bing, privileged): up to `attempts`
/// echoes `spacing` apart, first reply wins, overall `deadline`.
///
/// Sockets are opened in `init`, so they live in the network namespace of the thread that calls `init`.
public final class ICMPPinger: Sendable {
    /// ICMP identifier used by this pinger (random per pinger, like pro-bing).
    public let identifier: UInt16
    private let nonce: UInt64
    private let table: ProbeTable
    private let v4: RawSocket?
    private let v6: RawSocket?
    private let v4Error: String?
    private let v6Error: String?
    private let closed = Atomic<Bool>(false)

    /// Opens raw sockets for both families. Throws if neither can be opened (typically: not root / no
    /// CAP_NET_RAW). If only one family is unavailable (e.g. IPv6 disabled), pings to it fail with the reason.
    public convenience init() throws {
        try self.init(identifier: nil)
    }

    /// `identifier`: fixed ICMP identifier (tests); nil picks a random one.
    public init(identifier: UInt16?) throws {
        var rng = SystemRandomNumberGenerator()
        self.identifier = identifier ?? UInt16.random(in: 0...UInt16.max, using: &rng)
        nonce = UInt64.random(in: 0...UInt64.max, using: &rng)
        table = ProbeTable(firstSequence: UInt16.random(in: 0...UInt16.max, using: &rng))

        var s4: RawSocket?, s6: RawSocket?, e4: ICMPPingerError?, e6: ICMPPingerError?
        do { s4 = try RawSocket(family: .v4) } catch { e4 = error }
        do { s6 = try RawSocket(family: .v6) } catch { e6 = error }
        if s4 == nil && s6 == nil, let e4 {
            throw e4
        }
        v4 = s4; v6 = s6
        v4Error = e4?.description
        v6Error = e6?.description

        // Receive threads hold only the socket and table, never the pinger, so deinit can still close.
        let table = self.table, id = self.identifier, nonce = self.nonce
        do {
            for sock in [s4, s6].compactMap({ $0 }) {
                let family = sock.family
                try sock.startReceiving { bytes, source, rx in
                    guard let r = EchoPacket.parseReply(family: family, bytes),
                          r.identifier == id, r.nonce == nonce else { return }
                    table.deliver(family: family, sequence: r.sequence, source: source, receivedAt: rx)
                }
            }
        } catch {
            s4?.stop()
            s6?.stop()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Number of probes currently waiting for an outcome.
    public var inFlight: Int { table.inFlight }

    /// Probes one IPv4/IPv6 literal. Never hangs: the result comes at the latest at `deadline` (or when the
    /// pinger is closed or the calling task is cancelled).
    public func ping(_ address: String, attempts: Int = 3, spacing: Duration = .milliseconds(100),
                     deadline: Duration = .seconds(10)) async -> ICMPOutcome {
        await run(address, attempts: max(1, attempts), burst: false, spacing: spacing, deadline: { _ in deadline }).outcome
    }

    /// Sends `count` sequenced echoes `spacing` apart and waits for every reply, up to `timeout` after
    /// the last echo, so the result carries per-echo loss and RTTs (for loss and jitter), not just the
    /// first answer. Ends as soon as every echo is answered.
    public func burst(_ address: String, count: Int = 5, spacing: Duration = .milliseconds(20),
                      timeout: Duration = .seconds(1)) async -> ICMPBurst {
        let count = max(1, count)
        let finished = await run(address, attempts: count, burst: true, spacing: spacing,
                                 deadline: { _ in spacing * (count - 1) + timeout })
        return ICMPBurst(outcome: finished.outcome, rtts: finished.rtts.count == count ? finished.rtts
                                                                                        : [Int64?](repeating: nil, count: count))
    }

    private func run(_ address: String, attempts: Int, burst: Bool, spacing: Duration,
                     deadline: (Int) -> Duration) async -> ProbeTable.Finished {
        let start = ContinuousClock.now
        func failed(_ text: String) -> ProbeTable.Finished { .init(outcome: .failed(text), rtts: []) }
        guard let target = Target.parse(address) else { return failed("invalid address \"\(address)\"") }
        guard let sock = target.family == .v4 ? v4 : v6 else {
            return failed((target.family == .v4 ? v4Error : v6Error) ?? "address family not supported")
        }
        guard let probe = table.register(family: target.family, target: target.key, burst: burst ? attempts : nil) else {
            return failed("pinger closed")
        }
        let end = start + deadline(attempts)
        return await withTaskGroup(of: Void.self, returning: ProbeTable.Finished.self) { group in
            group.addTask {
                await self.drive(probe: probe, sock: sock, target: target, attempts: attempts,
                                 spacing: spacing, end: end, start: start)
            }
            let finished = await withTaskCancellationHandler {
                await table.wait(probe)
            } onCancel: {
                table.finish(probe, .failed("cancelled"))
            }
            group.cancelAll()  // wakes the driver's sleep at once
            return finished
        }
    }

    /// Sends the echoes on schedule and declares the timeout; exits early once the probe has an outcome.
    private func drive(probe: UInt64, sock: RawSocket, target: Target, attempts: Int,
                       spacing: Duration, end: ContinuousClock.Instant, start: ContinuousClock.Instant) async {
        for attempt in 1...attempts {
            let seq: UInt16
            switch table.allocate(probe: probe, attempt: attempt) {
            case .finished: return
            case .exhausted:
                table.finish(probe, .failed("too many probes in flight"))
                return
            case .sequence(let s): seq = s
            }
            let packet = EchoPacket.build(family: target.family, identifier: identifier, sequence: seq, nonce: nonce)
            let table = self.table
            switch sock.send(packet, to: target, beforeSend: { table.markSent(sequence: seq, at: SocketTimestamp.now()) }) {
            case .sent, .transient: break
            case .failed(let msg):
                table.finish(probe, .failed(msg))
                return
            }
            if attempt == attempts { break }
            let next = min(start + spacing * attempt, end)
            do { try await Task.sleep(until: next, clock: .continuous) } catch { return }
            if next >= end { break }
        }
        do { try await Task.sleep(until: end, clock: .continuous) } catch { return }
        table.finish(probe, .timedOut)
    }

    /// Stops the receive threads, closes the sockets and resumes every waiting `ping` with
    /// `.failed("pinger closed")`. Idempotent.
    public func close() {
        if closed.exchange(true, ordering: .acquiringAndReleasing) { return }
        table.closeAll()
        v4?.stop()
        v6?.stop()
    }
}
