import CLinuxIO
import Glibc
import ICMPProbe
import Synchronization

// Linux constants Glibc's overlay does not export.
private let TCP_FASTOPEN_NO_COOKIE_: Int32 = 34
private let MSG_FASTOPEN_: Int32 = 0x2000_0000
private let MSG_NOSIGNAL_: Int32 = 0x4000

/// How one request/response exchange ended.
enum ExchangeResult: Sendable, Equatable {
    /// The whole response is in. `nanoseconds` runs from the send call to the kernel's receive
    /// timestamp of the response's last segment (`kernelTimed`), else to the read that got it.
    case reply(status: Int, reason: String, nanoseconds: Int64, kernelTimed: Bool)
    /// The connection failed before a byte of the response came (errno: refused, unreachable, ...).
    case connectFailed(errno: Int32)
    case timedOut
    /// Closed (or reset) before a complete response.
    case endOfFile
    case localFailure(String)
}

/// One thread and one epoll set for every HTTP probe of a prober: a probe is a socket, one send
/// and, later, reads. The request rides in the SYN (TCP Fast Open without a cookie): a server that
/// does not take SYN data acknowledges only the SYN, and the kernel sends the request again at once
/// from the SYN-ACK's softirq. So connect, request and response all happen in the kernel, and the
/// last segment's receive timestamp stops the clock: a prober starved of CPU (a busy core, a CPU
/// limit) reads late but measures the same, as the ICMP probe does with its raw socket.
/// The sockets are opened on this thread, so in the network namespace it started in.
final class HTTPReactor: Sendable {
    private struct Request: Sendable {
        let address: PeerAddress
        let payload: [UInt8]
        let timeoutNanos: Int64
        let done: @Sendable (ExchangeResult) -> Void
    }

    private struct Inbox: ~Copyable {
        var requests: [Request] = []
        var started = false
        var closed = false
        var wakeWrite: Int32 = -1
    }

    private let inbox = Mutex(Inbox())
    /// Off: connect first and write once connected, as where the kernel has no Fast Open (tests use it).
    let fastOpen: Bool

    init(fastOpen: Bool = true) {
        self.fastOpen = fastOpen
    }

    /// Starts one exchange; `done` is called exactly once, on the reactor's thread or, if the
    /// reactor cannot run, on the caller's.
    func exchange(_ address: PeerAddress, payload: [UInt8], timeoutNanos: Int64,
                  done: @escaping @Sendable (ExchangeResult) -> Void) {
        let request = Request(address: address, payload: payload, timeoutNanos: timeoutNanos, done: done)
        let refusal: String? = inbox.withLock { box in
            if box.closed { return "HTTP prober shut down" }
            if !box.started {
                if let failure = Self.start(&box, reactor: self) { return failure }
            }
            box.requests.append(request)
            var one: UInt8 = 1
            _ = write(box.wakeWrite, &one, 1)
            return nil
        }
        if let refusal { done(.localFailure(refusal)) }
    }

    /// Ends every exchange in flight (as a local failure) and stops the thread.
    func shutdown() {
        inbox.withLock { box in
            guard !box.closed else { return }
            box.closed = true
            if box.started {
                var one: UInt8 = 1
                _ = write(box.wakeWrite, &one, 1)
            }
        }
    }

    private static func start(_ box: inout Inbox, reactor: HTTPReactor) -> String? {
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { return "epoll_create1: \(String(cString: strerror(errno)))" }
        var pipeFDs: [Int32] = [-1, -1]
        guard clinuxio_pipe2(&pipeFDs, O_CLOEXEC | O_NONBLOCK) == 0 else {
            let e = errno
            close(ep)
            return "pipe2: \(String(cString: strerror(e)))"
        }
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.fd = pipeFDs[0]
        _ = epoll_ctl(ep, EPOLL_CTL_ADD, pipeFDs[0], &ev)
        let loop = Unmanaged.passRetained(ReactorLoop(reactor: reactor, epfd: ep, wake: pipeFDs[0]))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<ReactorLoop>.fromOpaque(arg).takeRetainedValue().run()
            return nil
        }, loop.toOpaque())
        guard rc == 0 else {
            loop.release()
            close(ep)
            close(pipeFDs[0])
            close(pipeFDs[1])
            return "pthread_create: \(String(cString: strerror(rc)))"
        }
        pthread_detach(tid)
        box.started = true
        box.wakeWrite = pipeFDs[1]
        return nil
    }

    /// The loop's share of the inbox: new requests, and whether to stop. On stop the inbox is closed
    /// under the lock, so no request can arrive after the loop's last look.
    private func take(stopping: inout Bool) -> [Request] {
        inbox.withLock { box in
            let taken = box.requests
            box.requests.removeAll(keepingCapacity: true)
            if box.closed {
                stopping = true
                close(box.wakeWrite)
                box.wakeWrite = -1
            }
            return taken
        }
    }

    /// State only the reactor's thread touches.
    private final class ReactorLoop {
        final class Exchange {
            let fd: Int32
            let serial: UInt64
            let payload: [UInt8]
            var unsent: Int
            let sentRealtime: Int64
            let sentMonotonic: Int64
            let timeoutNanos: Int64
            let done: @Sendable (ExchangeResult) -> Void
            var received: [UInt8] = []
            var lastReceive: Int64?
            var kernelTimed = true

            init(fd: Int32, serial: UInt64, payload: [UInt8], unsent: Int, sentRealtime: Int64, sentMonotonic: Int64,
                 timeoutNanos: Int64, done: @escaping @Sendable (ExchangeResult) -> Void) {
                self.fd = fd
                self.serial = serial
                self.payload = payload
                self.unsent = unsent
                self.sentRealtime = sentRealtime
                self.sentMonotonic = sentMonotonic
                self.timeoutNanos = timeoutNanos
                self.done = done
            }
        }

        let reactor: HTTPReactor
        let epfd: Int32
        let wake: Int32
        var exchanges: [Int32: Exchange] = [:]
        /// Deadlines in the order they were set; every probe of a reactor has the same timeout in
        /// practice, so this stays sorted and a queue is enough. Stale entries (exchange gone) are skipped.
        var deadlines: [(at: Int64, fd: Int32, serial: UInt64)] = []
        var deadlineHead = 0
        var nextSerial: UInt64 = 0
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
        let control = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)

        init(reactor: HTTPReactor, epfd: Int32, wake: Int32) {
            self.reactor = reactor
            self.epfd = epfd
            self.wake = wake
        }

        deinit {
            buffer.deallocate()
            control.deallocate()
        }

        static func monotonic() -> Int64 {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }

        func run() {
            var events = [epoll_event](repeating: epoll_event(), count: 256)
            var stopping = false
            while !stopping {
                let wait = waitMilliseconds()
                let n = events.withUnsafeMutableBufferPointer { epoll_wait(epfd, $0.baseAddress, Int32($0.count), wait) }
                if n < 0, errno != EINTR { break }
                var woken = false
                for i in 0..<max(0, Int(n)) {
                    let fd = events[i].data.fd
                    if fd == wake { woken = true; continue }
                    if let x = exchanges[fd] { handle(x, events: events[i].events) }
                }
                if woken {
                    while read(wake, buffer, 4096) > 0 {}
                    for request in reactor.take(stopping: &stopping) { begin(request) }
                }
                expire(now: Self.monotonic())
            }
            for x in Array(exchanges.values) { finish(x, .localFailure("HTTP prober shut down")) }
            close(wake)
            close(epfd)
        }

        private func waitMilliseconds() -> Int32 {
            while deadlineHead < deadlines.count {
                let d = deadlines[deadlineHead]
                guard let x = exchanges[d.fd], x.serial == d.serial else {
                    deadlineHead += 1
                    continue
                }
                let left = d.at - Self.monotonic()
                return left <= 0 ? 0 : Int32(min(Int64(Int32.max), (left + 999_999) / 1_000_000))
            }
            deadlines.removeAll(keepingCapacity: true)
            deadlineHead = 0
            return -1
        }

        private func expire(now: Int64) {
            while deadlineHead < deadlines.count, deadlines[deadlineHead].at <= now {
                let d = deadlines[deadlineHead]
                deadlineHead += 1
                guard let x = exchanges[d.fd], x.serial == d.serial else { continue }
                // The response may be in the socket already, queued while this thread waited for a CPU.
                receive(x)
                if exchanges[d.fd]?.serial == d.serial { finish(x, .timedOut) }
            }
            if deadlineHead > 1024, deadlineHead * 2 > deadlines.count {
                deadlines.removeFirst(deadlineHead)
                deadlineHead = 0
            }
        }

        private func begin(_ r: Request) {
            let fd = socket(r.address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                r.done(.localFailure("socket: \(String(cString: strerror(errno)))"))
                return
            }
            var one: Int32 = 1
            let size = socklen_t(MemoryLayout<Int32>.size)
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, size)
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_FASTOPEN_NO_COOKIE_, &one, size)
            let stamped = SocketTimestamp.enable(fd)
            var realtime = SocketTimestamp.now()
            var monotonic = Self.monotonic()
            var sent = -1
            var e = EOPNOTSUPP
            if reactor.fastOpen {
                sent = r.address.withSockaddr { sa, length in
                    r.payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, MSG_FASTOPEN_ | MSG_NOSIGNAL_, sa, length) }
                }
                e = errno
            }
            if sent < 0 {
                if e == EOPNOTSUPP || e == ENOPROTOOPT {
                    // Fast Open is off in this namespace (net.ipv4.tcp_fastopen): connect, and write once connected.
                    realtime = SocketTimestamp.now()
                    monotonic = Self.monotonic()
                    let rc = r.address.withSockaddr { connect(fd, $0, $1) }
                    e = rc == 0 ? EINPROGRESS : errno
                }
                guard e == EINPROGRESS || e == EAGAIN else {
                    close(fd)
                    r.done(.connectFailed(errno: e))
                    return
                }
                // No SYN data (no Fast Open for this path right now): the request is written once connected.
                sent = 0
            }
            nextSerial += 1
            let x = Exchange(fd: fd, serial: nextSerial, payload: r.payload, unsent: r.payload.count - sent,
                             sentRealtime: realtime, sentMonotonic: monotonic, timeoutNanos: r.timeoutNanos, done: r.done)
            x.kernelTimed = stamped
            var ev = epoll_event()
            ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (x.unsent > 0 ? EPOLLOUT.rawValue : 0)
            ev.data.fd = fd
            guard epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 else {
                let e = errno
                close(fd)
                r.done(.localFailure("epoll_ctl: \(String(cString: strerror(e)))"))
                return
            }
            exchanges[fd] = x
            deadlines.append((monotonic + r.timeoutNanos, fd, x.serial))
        }

        private func handle(_ x: Exchange, events: UInt32) {
            if events & EPOLLOUT.rawValue != 0, x.unsent > 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(x.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 {
                    finish(x, .connectFailed(errno: error))
                    return
                }
                let offset = x.payload.count - x.unsent
                let n = x.payload.withUnsafeBytes { bytes -> Int in
                    guard let base = bytes.baseAddress else { return 0 }
                    return send(x.fd, base + offset, x.unsent, MSG_NOSIGNAL_)
                }
                if n > 0 { x.unsent -= n }
                if x.unsent == 0 {
                    var ev = epoll_event()
                    ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
                    ev.data.fd = x.fd
                    _ = epoll_ctl(epfd, EPOLL_CTL_MOD, x.fd, &ev)
                }
            }
            if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                receive(x)
            }
        }

        /// Reads what is queued; finishes the exchange once the response is whole, closed or failed.
        private func receive(_ x: Exchange) {
            while exchanges[x.fd] === x {
                var iov = iovec(iov_base: buffer, iov_len: 4096)
                var controlLength = 0
                let n = withUnsafeMutablePointer(to: &iov) { iovp -> Int in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = control
                    msg.msg_controllen = 128
                    let n = recvmsg(x.fd, &msg, Int32(MSG_DONTWAIT))
                    if n >= 0 { controlLength = msg.msg_controllen }
                    return n
                }
                if n > 0 {
                    x.received.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: n))
                    if let stamp = SocketTimestamp.fromControl(control, length: controlLength) {
                        x.lastReceive = stamp
                    } else {
                        x.lastReceive = SocketTimestamp.now()
                        x.kernelTimed = false
                    }
                    if x.received.count > 65536 {
                        finish(x, reply(x, (0, "malformed HTTP response")))
                    } else if let head = HelloResponse.complete(x.received, atEOF: false) {
                        finish(x, reply(x, head))
                    }
                    continue
                }
                if n == 0 {
                    if let head = HelloResponse.complete(x.received, atEOF: true) {
                        finish(x, reply(x, head))
                    } else {
                        finish(x, .endOfFile)
                    }
                    return
                }
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return }
                finish(x, x.received.isEmpty && e != ECONNRESET && e != EPIPE ? .connectFailed(errno: e) : .endOfFile)
                return
            }
        }

        private func reply(_ x: Exchange, _ head: (status: Int, reason: String)) -> ExchangeResult {
            let monotonicElapsed = Self.monotonic() - x.sentMonotonic
            var nanoseconds = monotonicElapsed
            var kernelTimed = false
            if x.kernelTimed, let last = x.lastReceive {
                let stamped = last - x.sentRealtime
                // The wall clock could have been stepped between the two readings: trust it only
                // within what the monotonic clock allows.
                if stamped > 0, stamped <= monotonicElapsed + 1_000_000 {
                    nanoseconds = stamped
                    kernelTimed = true
                }
            }
            if nanoseconds > x.timeoutNanos { return .timedOut }
            return .reply(status: head.status, reason: head.reason, nanoseconds: max(1, nanoseconds), kernelTimed: kernelTimed)
        }

        private func finish(_ x: Exchange, _ result: ExchangeResult) {
            guard exchanges[x.fd] === x else { return }
            exchanges[x.fd] = nil
            _ = epoll_ctl(epfd, EPOLL_CTL_DEL, x.fd, nil)
            close(x.fd)
            x.done(result)
        }
    }
}
