import ArgumentParser
import CNetfilterQueue
import CommandLineSupport
import Glibc

/// `nfq-delay`: adds a fixed delay to every packet a netfilter rule sends to an NFQUEUE.
/// This kernel has no netem, so `agent cluster fault --delay` holds packets here instead.
@main
struct NFQDelayMain {
    static func main() async { await CommandMain.run(NFQDelayCommand.self) }
}

struct NFQDelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nfq-delay",
        abstract: "Hold every packet of an NFQUEUE for a fixed time, then accept it.",
        discussion: """
            Run it in the network namespace whose rules say `-j NFQUEUE --queue-num N --queue-bypass`
            (or nft `queue num N bypass` where the kernel has it). Packets are
            copied as metadata only and released in arrival order. When the kernel queue is full,
            packets pass undelayed (fail-open); with `bypass`, they also pass when this program is
            not running. SIGTERM/SIGINT release every held packet, unbind the queue and exit 0.
            """)

    @Option(name: .long, parsing: .unconditional, help: "NFQUEUE number (0-65535), as in the queue rule.")
    var queue: Int
    @Option(name: .customLong("delay-ms"), parsing: .unconditional, help: "Milliseconds to hold each packet (1-10000).")
    var delayMs: Int
    @Option(name: .customLong("max-queued"), parsing: .unconditional, help: "Kernel queue length; beyond it packets pass undelayed.")
    var maxQueued: Int = 8192
    @Option(name: .long, help: "Write the process id here once the queue is bound; removed on exit.")
    var pidfile: String?

    func validate() throws {
        guard (0...65535).contains(queue) else { throw ValidationError("--queue must be 0-65535, got \(queue)") }
        guard (1...10_000).contains(delayMs) else { throw ValidationError("--delay-ms must be 1-10000, got \(delayMs)") }
        guard (16...1_000_000).contains(maxQueued) else { throw ValidationError("--max-queued must be 16-1000000, got \(maxQueued)") }
    }

    func run() throws {
        let delayer = try Delayer(queue: UInt16(queue), delayNanoseconds: UInt64(delayMs) * 1_000_000,
                                  maxQueued: UInt32(maxQueued))
        if let pidfile { try writePidfile(pidfile) }
        defer { if let pidfile { unlink(pidfile) } }
        logLine("queue \(queue) bound, delay \(delayMs) ms, max \(maxQueued) queued")
        let stats = try delayer.run()
        logLine("stopping: \(stats.delayed) packets delayed, \(stats.overruns) receive overruns")
    }

    private func writePidfile(_ path: String) throws {
        // Written atomically: the agent takes the pidfile's appearance as "queue bound".
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DelayError("cannot write \(tmp): \(errnoText())") }
        let text = Array("\(getpid())\n".utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.count, rename(tmp, path) == 0 else { throw DelayError("cannot write \(path): \(errnoText())") }
    }
}

struct DelayError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func errnoText() -> String { String(cString: strerror(errno)) }

func logLine(_ message: String) {
    var line = "nfq-delay: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// One bound queue and the packets it holds. Single-threaded: a poll loop over the netlink
/// socket, a timerfd armed for the oldest packet's deadline, and a signalfd for shutdown.
final class Delayer {
    private let delay: UInt64
    private var handle: OpaquePointer?
    private var queueHandle: OpaquePointer?
    /// Packet ids with their release time, oldest first. Every packet gets the same delay, so
    /// arrival order is release order and a FIFO is the whole timer queue.
    private var held = Ring()
    private var delayed: UInt64 = 0
    private var overruns: UInt64 = 0

    init(queue: UInt16, delayNanoseconds: UInt64, maxQueued: UInt32) throws {
        delay = delayNanoseconds
        guard let h = nfq_open() else { throw DelayError("nfq_open: \(errnoText())") }
        handle = h
        let callback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<nfgenmsg>?, OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = {
            _, _, nfad, context in
            guard let nfad, let context else { return 0 }
            Unmanaged<Delayer>.fromOpaque(context).takeUnretainedValue().hold(nfqd_packet_id(nfad))
            return 0
        }
        guard let qh = nfq_create_queue(h, queue, callback, Unmanaged.passUnretained(self).toOpaque()) else {
            let reason = errno == EBUSY ? "another program is bound to it" : errnoText()
            close()
            throw DelayError("cannot bind queue \(queue): \(reason) (root and CAP_NET_ADMIN in this namespace needed)")
        }
        queueHandle = qh
        let flags = NFQD_FLAG_FAIL_OPEN | NFQD_FLAG_GSO
        guard nfq_set_mode(qh, NFQD_COPY_META, 0) == 0,
              nfq_set_queue_maxlen(qh, maxQueued) == 0,
              nfq_set_queue_flags(qh, flags, flags) == 0 else {
            let reason = errnoText()
            close()
            throw DelayError("cannot configure queue \(queue): \(reason)")
        }
        // Room for every message the kernel may have outstanding (~1 KiB of skb each), so the
        // socket rarely overruns; nfnl_rcvbufsiz uses SO_RCVBUFFORCE as root.
        _ = nfnl_rcvbufsiz(nfq_nfnlh(h), min(UInt32(maxQueued) * 2048, 256 << 20))
    }

    deinit { close() }

    /// Idempotent: init's failure paths call it and deinit may run after them.
    private func close() {
        if let qh = queueHandle { nfq_destroy_queue(qh) }
        queueHandle = nil
        if let h = handle { nfq_close(h) }
        handle = nil
    }

    fileprivate func hold(_ id: UInt32) {
        guard id != 0 else { return }
        held.append(id: id, deadline: Self.now() + delay)
        delayed += 1
    }

    struct Stats { var delayed: UInt64; var overruns: UInt64 }

    /// Runs until SIGTERM or SIGINT, then lets every held packet go.
    func run() throws -> Stats {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGHUP)
        sigprocmask(SIG_BLOCK, &signals, nil)
        let sigfd = signalfd(-1, &signals, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        let timerfd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        guard sigfd >= 0, timerfd >= 0 else { throw DelayError("signalfd/timerfd: \(errnoText())") }
        defer {
            Glibc.close(sigfd)
            Glibc.close(timerfd)
        }
        guard let handle else { throw DelayError("queue closed") }
        let nlfd = nfq_fd(handle)
        _ = fcntl(nlfd, F_SETFL, fcntl(nlfd, F_GETFL) | O_NONBLOCK)
        // Meta-only messages are small; 64 KiB takes a whole batch per recv.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var fds = [pollfd(fd: nlfd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: timerfd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
        var armedFor: UInt64 = 0
        while true {
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw DelayError("poll: \(errnoText())")
            }
            if fds[2].revents != 0 { break }
            if fds[1].revents != 0 {
                var expirations: UInt64 = 0
                _ = read(timerfd, &expirations, 8)
            }
            if fds[0].revents != 0 { try receive(handle, nlfd, buffer) }
            release(upTo: Self.now())
            // Re-arm only when the head changed: one timerfd_settime per release, not per packet.
            let next = held.first?.deadline ?? 0
            if next != armedFor {
                var spec = itimerspec()
                spec.it_value = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
                timerfd_settime(timerfd, Int32(TFD_TIMER_ABSTIME), &spec, nil)  // zero disarms
                armedFor = next
            }
        }
        release(upTo: .max)
        return Stats(delayed: delayed, overruns: overruns)
    }

    private func receive(_ handle: OpaquePointer, _ fd: Int32, _ buffer: UnsafeMutableRawPointer) throws {
        while true {
            let len = recv(fd, buffer, 65536, 0)
            if len > 0 {
                nfq_handle_packet(handle, buffer.assumingMemoryBound(to: CChar.self), Int32(len))
                continue
            }
            switch errno {
            case EAGAIN, EWOULDBLOCK: return
            case EINTR: continue
            // Lost messages: those packets stay in the kernel, but the next batch verdict
            // (which accepts every older id too) lets them go, so nothing is stranded.
            case ENOBUFS: overruns += 1
            default: throw DelayError("recv: \(errnoText())")
            }
        }
    }

    /// Accepts every packet due by `now` with one batch verdict for the newest of them; the kernel
    /// queues in id order, so that also covers any packet whose message was lost.
    private func release(upTo now: UInt64) {
        var last: UInt32 = 0
        while let head = held.first, head.deadline <= now {
            last = head.id
            held.removeFirst()
        }
        guard last != 0, let qh = queueHandle else { return }
        if nfq_set_verdict_batch(qh, last, NFQD_ACCEPT) < 0 {
            logLine("verdict for \(last) failed: \(errnoText())")
        }
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A growable ring buffer of (id, deadline); bounded in practice by the kernel queue length.
struct Ring {
    private var ids: [UInt32] = Array(repeating: 0, count: 1024)
    private var deadlines: [UInt64] = Array(repeating: 0, count: 1024)
    private var head = 0
    private(set) var count = 0

    var first: (id: UInt32, deadline: UInt64)? {
        count == 0 ? nil : (ids[head], deadlines[head])
    }

    mutating func append(id: UInt32, deadline: UInt64) {
        if count == ids.count { grow() }
        let slot = (head + count) % ids.count
        ids[slot] = id
        deadlines[slot] = deadline
        count += 1
    }

    mutating func removeFirst() {
        guard count > 0 else { return }
        head = (head + 1) % ids.count
        count -= 1
    }

    private mutating func grow() {
        let order = (0..<count).map { (head + $0) % ids.count }
        var newIds = Array(repeating: UInt32(0), count: ids.count * 2)
        var newDeadlines = Array(repeating: UInt64(0), count: ids.count * 2)
        for (i, slot) in order.enumerated() {
            newIds[i] = ids[slot]
            newDeadlines[i] = deadlines[slot]
        }
        ids = newIds
        deadlines = newDeadlines
        head = 0
    }
}
