@testable import HealthDaemon
import Glibc
import Testing

/// When the raw HTTP probe considers a response complete (the moment its clock stops).
@Suite struct HTTPResponseTests {
    static func complete(_ text: String, eof: Bool = false) -> (status: Int, reason: String)? {
        HelloResponse.complete(Array(text.utf8), atEOF: eof)
    }

    @Test func contentLengthChunkedAndEOF() {
        #expect(Self.complete("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")! == (200, "OK"))
        #expect(Self.complete("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc") == nil)
        #expect(Self.complete("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabcde")! == (200, "OK"))
        #expect(Self.complete("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n") == nil)
        #expect(Self.complete("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")!
            == (503, "Service Unavailable"))
        #expect(Self.complete("HTTP/1.0 200 OK\r\n\r\nhello") == nil)
        #expect(Self.complete("HTTP/1.0 200 OK\r\n\r\nhello", eof: true)! == (200, "OK"))
        #expect(Self.complete("HTTP/1.1 200 OK\r\nContent-Le") == nil)
        #expect(Self.complete("garbage\r\n\r\n", eof: true)! == (0, "malformed HTTP response"))
    }

    @Test func goErrorWording() {
        #expect(HTTPProbe.goErrorText(.timedOut, dial: "198.18.0.1:4240")
            == "context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
        #expect(HTTPProbe.goErrorText(.connectFailed(errno: ECONNREFUSED), dial: "198.18.0.1:4240")
            == "dial tcp 198.18.0.1:4240: connect: connection refused")
        #expect(HTTPProbe.goErrorText(.connectFailed(errno: EHOSTUNREACH), dial: "198.18.0.1:4240")
            == "dial tcp 198.18.0.1:4240: connect: no route to host")
        #expect(HTTPProbe.goErrorText(.endOfFile, dial: "198.18.0.1:4240") == "EOF")
    }
}
