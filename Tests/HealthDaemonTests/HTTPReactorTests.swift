import Foundation
import Glibc
@testable import HealthDaemon
import ICMPProbe
import Synchronization
import Testing

/// The HTTP probe's exchanges against a real TCP listener on 127.0.0.1 that the test answers by hand,
/// so it decides when the response is sent.
@Suite struct HTTPReactorTests {
    /// A listening socket on 127.0.0.1 at a port the kernel picks.
    final class Listener: @unchecked Sendable {  // immutable after init
        let fd: Int32
        let port: Int

        init() throws {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                    bind(s, p, length) == 0 && listen(s, 16) == 0 && getsockname(s, p, &length) == 0
                }
            }
            guard s >= 0, bound else {
                close(s)
                throw POSIXError(.EADDRNOTAVAIL)
            }
            fd = s
            port = Int(UInt16(bigEndian: sa.sin_port))
        }

        deinit { close(fd) }

        /// Waits (at most 5 s) until a connection is in the backlog: the client's SYN went out.
        func awaitConnection() throws {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 5000) == 1 else { throw POSIXError(.ETIMEDOUT) }
        }

        /// Accepts one connection (waiting at most 5 s), reads the request head and answers `response`.
        /// Returns the request's bytes.
        func answerOne(_ response: String) throws -> String {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 5000) == 1 else { throw POSIXError(.ETIMEDOUT) }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { throw POSIXError(.ECONNABORTED) }
            defer { close(c) }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 2048)
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                var q = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
                guard poll(&q, 1, 5000) == 1 else { throw POSIXError(.ETIMEDOUT) }
                let n = read(c, &buffer, buffer.count)
                guard n > 0 else { break }
                request += buffer[0..<n]
            }
            _ = Array(response.utf8).withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            return String(decoding: request, as: UTF8.self)
        }
    }

    /// `answerOne` on a thread of its own, started now: on the cooperative pool, shared with every
    /// other suite running in parallel, a blocking accept can wait seconds for a thread (CI saw 3.3 s),
    /// and that wait would be counted as the server's time.
    final class Served: Sendable {
        private let result = Mutex<Result<String, any Error>?>(nil)

        init(_ listener: Listener, _ response: String) {
            Thread {
                let r = Result { try listener.answerOne(response) }
                self.result.withLock { $0 = r }
            }.start()
        }

        /// The request the server read, once it has answered (answerOne bounds each of its waits).
        func request() async throws -> String {
            while true {
                if let r = result.withLock({ $0 }) { return try r.get() }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    /// A port on 127.0.0.1 nothing listens on (bound, never listened, so nobody else takes it meanwhile).
    static func closedPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return (fd, Int(UInt16(bigEndian: sa.sin_port)))
    }

    func exchange(_ reactor: HTTPReactor, port: Int, timeout: Int64 = 5_000_000_000) async throws -> ExchangeResult {
        let address = try #require(PeerAddress(ip: "127.0.0.1", port: port))
        let request = Array("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        return await withCheckedContinuation { c in
            reactor.exchange(address, payload: request, timeoutNanos: timeout) { c.resume(returning: $0) }
        }
    }

    @Test(arguments: [true, false])
    func requestReachesTheServerAndTheReplyIsKernelTimed(fastOpen: Bool) async throws {
        let reactor = HTTPReactor(fastOpen: fastOpen)
        defer { reactor.shutdown() }
        let listener = try Listener()
        let served = Served(listener, Self.ok)
        let result = try await exchange(reactor, port: listener.port)
        #expect(try await served.request().hasPrefix("GET /hello HTTP/1.1\r\n"))
        guard case let .reply(status, reason, nanoseconds, kernelTimed) = result else {
            Issue.record("no reply: \(result)")
            return
        }
        #expect(status == 200 && reason == "OK")
        #expect(kernelTimed)
        #expect(nanoseconds > 0 && nanoseconds < 2_000_000_000)
    }

    /// CPU starvation of the prober, faked by blocking the reactor's thread (a CPU limit cannot be
    /// put on one test thread): the reply lands in the kernel while the thread is blocked, and the
    /// figure is the network's time, not the wait (bench/starvation.sh does it with a real cgroup quota).
    @Test func aReplyThatWaitsForTheThreadIsTimedByTheKernel() async throws {
        let reactor = HTTPReactor()
        defer { reactor.shutdown() }
        let listener = try Listener()
        let closed = try Self.closedPort()
        defer { close(closed.fd) }
        let blocked = Atomic<Bool>(false)
        let started = ContinuousClock.now
        async let timed = exchange(reactor, port: listener.port)
        try listener.awaitConnection()
        // A refused exchange whose completion holds the reactor's thread for 600 ms.
        let refusedAddress = try #require(PeerAddress(ip: "127.0.0.1", port: closed.port))
        reactor.exchange(refusedAddress, payload: Array("x".utf8), timeoutNanos: 5_000_000_000) { _ in
            blocked.store(true, ordering: .releasing)
            usleep(600_000)
        }
        while !blocked.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
        _ = try await Served(listener, Self.ok).request()
        let result = try await timed
        let waited = ContinuousClock.now - started
        guard case let .reply(_, _, nanoseconds, kernelTimed) = result else {
            Issue.record("no reply: \(result)")
            return
        }
        #expect(waited >= .milliseconds(550), "the reply was read only after the block")
        #expect(kernelTimed)
        #expect(nanoseconds < 300_000_000, "figure \(Double(nanoseconds) / 1e6) ms includes the blocked thread's wait")
    }

    @Test func refusedAndSilentServersFailAsGoSaysIt() async throws {
        let reactor = HTTPReactor()
        defer { reactor.shutdown() }
        let closed = try Self.closedPort()
        defer { close(closed.fd) }
        let refused = try await exchange(reactor, port: closed.port)
        #expect(refused == .connectFailed(errno: ECONNREFUSED))
        #expect(HTTPProbe.goErrorText(refused, dial: "127.0.0.1:\(closed.port)") == "dial tcp 127.0.0.1:\(closed.port): connect: connection refused")

        // Accepts (the kernel's backlog) but never answers: the deadline ends it.
        let listener = try Listener()
        let started = ContinuousClock.now
        let silent = try await exchange(reactor, port: listener.port, timeout: 300_000_000)
        #expect(silent == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func shutdownEndsWhatIsInFlightAndRefusesNewExchanges() async throws {
        let reactor = HTTPReactor()
        let listener = try Listener()
        async let pending = exchange(reactor, port: listener.port, timeout: 60_000_000_000)
        try await Task.sleep(for: .milliseconds(100))
        reactor.shutdown()
        #expect(try await pending == .localFailure("HTTP prober shut down"))
        #expect(try await exchange(reactor, port: listener.port) == .localFailure("HTTP prober shut down"))
    }
}
