import Glibc
import Synchronization

// Constants that Glibc's headers define as macros Swift cannot import.
private let SO_RCVBUFFORCE_: Int32 = 33
private let SOL_RAW_: Int32 = 255
private let ICMP_FILTER_: Int32 = 1
private let ICMP6_FILTER_: Int32 = 1

/// One raw ICMP socket plus the thread that reads it. The fd is only closed by the receive thread when it
/// stops, under `fd`'s lock, so a concurrent sendto never hits a closed (or reused) descriptor.
final class RawSocket: Sendable {
    enum SendResult {
        case sent
        case transient        // buffer full etc.: treat like a lost packet
        case failed(String)
    }

    let family: ICMPFamily
    private let fd: Mutex<Int32>
    private let wakeFD: Int32       // read end of the stop pipe, polled by the receive thread
    private let wakeWriteFD: Int32
    private let stopping = Atomic<Bool>(false)

    /// Opens the socket in the calling thread's network namespace.
    init(family: ICMPFamily) throws(ICMPPingerError) {
        self.family = family
        let s = family == .v4
            ? socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
            : socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard s >= 0 else {
            let e = errno
            let hint = (e == EPERM || e == EACCES) ? " (raw ICMP sockets need root or CAP_NET_RAW)" : ""
            throw ICMPPingerError(errnoText(family == .v4 ? "socket(AF_INET, SOCK_RAW)" : "socket(AF_INET6, SOCK_RAW)", e) + hint, errno: e)
        }
        // Kernel receive timestamps make the RTT independent of thread wake-up latency.
        SocketTimestamp.enable(s)
        // Room for a burst of replies when thousands of probes run at once.
        var buf: Int32 = 4 << 20
        if setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE_, &buf, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, socklen_t(MemoryLayout<Int32>.size))
        }
        // Only echo replies reach user space; everything else is dropped in the kernel (saves CPU).
        if family == .v4 {
            var mask: UInt32 = ~(UInt32(1) << UInt32(EchoPacket.v4EchoReply))
            setsockopt(s, SOL_RAW_, ICMP_FILTER_, &mask, socklen_t(MemoryLayout<UInt32>.size))
        } else {
            var filter = [UInt32](repeating: 0xffff_ffff, count: 8)  // block all ...
            let t = Int(EchoPacket.v6EchoReply)
            filter[t >> 5] &= ~(UInt32(1) << UInt32(t & 31))        // ... but echo reply
            filter.withUnsafeMutableBytes { p in
                _ = setsockopt(s, Int32(IPPROTO_ICMPV6), ICMP6_FILTER_, p.baseAddress, socklen_t(p.count))
            }
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            let e = errno
            Glibc.close(s)
            throw ICMPPingerError(errnoText("pipe2", e), errno: e)
        }
        for p in pipeFDs {
            _ = fcntl(p, F_SETFD, FD_CLOEXEC)
            _ = fcntl(p, F_SETFL, O_NONBLOCK)
        }
        fd = Mutex(s)
        wakeFD = pipeFDs[0]
        wakeWriteFD = pipeFDs[1]
    }

    deinit {
        // Only reached with fd >= 0 if the receive thread never ran (it holds a reference while running and
        // closes everything on exit).
        fd.withLock { fd in
            guard fd >= 0 else { return }
            Glibc.close(fd)
            Glibc.close(wakeFD)
            Glibc.close(wakeWriteFD)
            fd = -1
        }
    }

    /// Sends one echo. `beforeSend` runs right before sendto (under the fd lock) to take the send time.
    func send(_ packet: [UInt8], to target: Target, beforeSend: () -> Void) -> SendResult {
        fd.withLock { fd -> SendResult in
            guard fd >= 0 else { return .failed("pinger closed") }
            while true {
                beforeSend()
                let n: Int = packet.withUnsafeBytes { p in
                    if family == .v4 {
                        var sa = target.sin
                        return withUnsafePointer(to: &sa) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                    } else {
                        var sa = target.sin6
                        return withUnsafePointer(to: &sa) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                            }
                        }
                    }
                }
                if n >= 0 { return .sent }
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS { return .transient }
                return .failed(errnoText("sendto", e))
            }
        }
    }

    /// Starts the receive thread. `handler` gets (sequence-bearing packet bytes, source, kernel rx time).
    func startReceiving(_ handler: @escaping @Sendable (UnsafeRawBufferPointer, AddrKey, Int64) -> Void) throws(ICMPPingerError) {
        let box = Unmanaged.passRetained(ReceiverBox(socket: self, handler: handler))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let box = Unmanaged<ReceiverBox>.fromOpaque(arg).takeRetainedValue()
            box.socket.receiveLoop(box.handler)
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw ICMPPingerError(errnoText("pthread_create", rc), errno: rc)
        }
        pthread_detach(tid)
    }

    /// Asks the receive thread to stop; it closes the socket on its way out.
    func stop() {
        if stopping.exchange(true, ordering: .acquiringAndReleasing) { return }
        fd.withLock { fd in
            // Under the lock: the receive thread closes the pipe under the same lock, so never a stale fd.
            guard fd >= 0 else { return }
            var one: UInt8 = 1
            _ = write(wakeWriteFD, &one, 1)
        }
    }

    private func receiveLoop(_ handler: @Sendable (UnsafeRawBufferPointer, AddrKey, Int64) -> Void) {
        let s = fd.withLock { $0 }
        let bufSize = 2048
        let buf = UnsafeMutableRawPointer.allocate(byteCount: bufSize, alignment: 16)
        let ctlSize = 128
        let ctl = UnsafeMutableRawPointer.allocate(byteCount: ctlSize, alignment: 16)
        var name = sockaddr_storage()
        defer {
            buf.deallocate()
            ctl.deallocate()
            fd.withLock { fd in
                Glibc.close(fd)
                fd = -1
                Glibc.close(wakeFD)
                Glibc.close(wakeWriteFD)
            }
        }
        var fds = [pollfd(fd: s, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        while !stopping.load(ordering: .acquiring) {
            // Blocking poll without timeout: the thread costs no CPU while idle; stop() wakes it via the pipe.
            let r = poll(&fds, 2, -1)
            if r < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && fds[0].revents & Int16(POLLIN) == 0 { return }
            // Drain everything queued so a burst costs one poll.
            while true {
                var ctlLen = 0
                var iov = iovec(iov_base: buf, iov_len: bufSize)
                let n: Int = withUnsafeMutablePointer(to: &iov) { iovp in
                    withUnsafeMutablePointer(to: &name) { np in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(np)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        msg.msg_iov = iovp
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl
                        msg.msg_controllen = ctlSize
                        let n = recvmsg(s, &msg, Int32(MSG_DONTWAIT))
                        if n >= 0 { ctlLen = msg.msg_controllen }
                        return n
                    }
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    break  // EAGAIN: queue drained
                }
                let rx = SocketTimestamp.fromControl(ctl, length: ctlLen) ?? SocketTimestamp.now()
                guard let src = sourceKey(name) else { continue }
                handler(UnsafeRawBufferPointer(start: buf, count: n), src, rx)
            }
        }
    }

    private func sourceKey(_ ss: sockaddr_storage) -> AddrKey? {
        var ss = ss
        let fam = ss.ss_family
        return withUnsafePointer(to: &ss) { p -> AddrKey? in
            if family == .v4, fam == sa_family_t(AF_INET) {
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Target.key(of: $0.pointee.sin_addr) }
            }
            if family == .v6, fam == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Target.key(of: $0.pointee.sin6_addr) }
            }
            return nil
        }
    }
}

private final class ReceiverBox {
    let socket: RawSocket
    let handler: @Sendable (UnsafeRawBufferPointer, AddrKey, Int64) -> Void
    init(socket: RawSocket, handler: @escaping @Sendable (UnsafeRawBufferPointer, AddrKey, Int64) -> Void) {
        self.socket = socket
        self.handler = handler
    }
}
