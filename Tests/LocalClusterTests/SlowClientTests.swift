import Agent
import Foundation
import LoopbackClient
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
