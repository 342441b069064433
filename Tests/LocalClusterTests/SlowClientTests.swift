import Agent
import Foundation
import XCTest

/// Servers defend themselves against clients that connect and never finish a request
/// (slowloris): the responder on loopback, held by 1000 partial requests.
final class SlowClientTests: XCTestCase {
    func testPartialRequestsAreClosedWithinTheReadHeaderTimeoutWhileHelloAnswers() throws {
        let (responder, port) = try startResponder(readHeaderTimeout: 2, idleTimeout: 30)
        defer { responder.terminate() }

        var partial: [Int32] = []
        defer { partial.forEach { close($0) } }
        let firstSent = Date()
        for _ in 0..<1000 {
            let fd = try LoopbackSocket.connect(port: port)
            LoopbackSocket.send(fd, "GET /hel")
            partial.append(fd)
        }
        let lastSent = Date()
        print("1000 partial requests sent in \(String(format: "%.2f", lastSent.timeIntervalSince(firstSent))) s")
        // Held connections do not starve real clients.
        var answered = 0, asked = 0
        repeat {
            asked += 1
            if LoopbackSocket.hello(port: port) == 200 { answered += 1 }
            usleep(100_000)
        } while Date().timeIntervalSince(lastSent) < 1
        XCTAssertEqual(answered, asked, "/hello must answer while 1000 partial requests are held")
        // The last ones sent are younger than the 2 s timeout: still open (the server waits for them).
        if Date().timeIntervalSince(lastSent) < 1.5 {
            XCTAssertEqual(partial.suffix(50).filter(LoopbackSocket.isClosedByPeer).count, 0, "closed before the read-header timeout")
        }

        // Then every one is closed by the server once the 2 s read-header timeout has passed.
        let deadline = lastSent.addingTimeInterval(10)
        var open = partial
        while !open.isEmpty, Date() < deadline {
            open = open.filter { !LoopbackSocket.isClosedByPeer($0) }
            usleep(100_000)
        }
        XCTAssertEqual(open.count, 0, "\(open.count)/1000 partial requests still open 10 s after sending (timeout 2 s)")
        XCTAssertEqual(LoopbackSocket.hello(port: port), 200, "the server is still serving afterwards")
    }

    /// A kept-alive connection that sent a complete request is not cut by the read-header
    /// timeout, only by the idle timeout.
    func testIdleKeepAliveIsClosedAfterTheIdleTimeout() throws {
        let (responder, port) = try startResponder(readHeaderTimeout: 1, idleTimeout: 3)
        defer { responder.terminate() }
        let fd = try LoopbackSocket.connect(port: port)
        defer { close(fd) }
        LoopbackSocket.send(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let sent = Date()
        usleep(1_800_000)
        XCTAssertFalse(LoopbackSocket.isClosedByPeer(fd), "closed at the read-header timeout although the request was complete")
        while !LoopbackSocket.isClosedByPeer(fd), Date().timeIntervalSince(sent) < 15 { usleep(100_000) }
        XCTAssertTrue(LoopbackSocket.isClosedByPeer(fd), "idle keep-alive connection still open 15 s later (idle timeout 3 s)")
    }
}

/// The responder on a free port (it binds every address; the tests reach it on 127.0.0.1 only),
/// once `/hello` answers.
func startResponder(readHeaderTimeout: Double, idleTimeout: Double) throws -> (BackgroundCommand, Int) {
    let port = try LoopbackSocket.freePort()
    let responder = try BackgroundCommand(["\(ClusterNaming.binDir)/cilium-health-responder", "--listen", "\(port)",
                                           "--read-header-timeout", "\(readHeaderTimeout)", "--idle-timeout", "\(idleTimeout)"])
    let up = Date().addingTimeInterval(20)
    while LoopbackSocket.hello(port: port) != 200, Date() < up { usleep(50_000) }
    guard LoopbackSocket.hello(port: port) == 200 else {
        responder.terminate()
        throw AgentError("responder did not answer on 127.0.0.1:\(port): \(responder.stderr)")
    }
    return (responder, port)
}

/// Raw TCP to 127.0.0.1 only.
enum LoopbackSocket {
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AgentError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw AgentError("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw AgentError("no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// True once the peer has closed (EOF or reset); never blocks. Data the server sent first (a
    /// response) is read and dropped.
    static func isClosedByPeer(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 { return true }
            if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    /// `GET /hello` on a fresh connection; the status code, or nil.
    static func hello(port: Int) -> Int? {
        guard let fd = try? connect(port: port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        send(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
