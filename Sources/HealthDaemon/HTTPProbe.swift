import Foundation
import Glibc
import ICMPProbe

/// `GET http://<ip>:<port>/hello` on a fresh connection, success = 200. The latency is what curl's
/// `time_total` measures, from the send to the last byte of the response, but both ends are read
/// off the kernel (see `HTTPReactor`): the network's and the responder's time, not this client's,
/// and not the prober's wait for a CPU. No HTTP client stack: the client overhead that made
/// upstream-style figures several times curl's (Goldpinger#83) stays out of the number. Failures
/// carry the text Go's http client would print, because users grep for those strings.
public final class HTTPProbe: Sendable {
    public let port: Int
    public let timeout: Duration
    private let reactor = HTTPReactor()

    public init(port: Int = 4240, timeout: Duration = .seconds(10)) {
        self.port = port
        self.timeout = timeout
    }

    public enum Outcome: Sendable, Equatable {
        case ok(latencyNanoseconds: Int64)
        case failed(String)
    }

    public func probe(_ ip: String) async -> Outcome {
        let dial = IPAddressText.hostPort(ip, port)
        let url = "http://\(dial)/hello"
        guard let address = PeerAddress(ip: ip, port: port) else {
            return .failed("Get \"\(url)\": dial tcp \(dial): invalid address")
        }
        let request = Array("GET /hello HTTP/1.1\r\nHost: \(dial)\r\nUser-Agent: cilium-health\r\nConnection: close\r\n\r\n".utf8)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<ExchangeResult, Never>) in
            reactor.exchange(address, payload: request, timeoutNanos: timeout.nanoseconds) { continuation.resume(returning: $0) }
        }
        switch result {
        case let .reply(status, reason, nanoseconds, _):
            guard status == 200 else { return .failed("unexpected status code: \(status) \(status) \(reason)") }
            return .ok(latencyNanoseconds: nanoseconds)
        default:
            return .failed("Get \"\(url)\": \(Self.goErrorText(result, dial: dial))")
        }
    }

    public func shutdown() async {
        reactor.shutdown()
    }

    /// Go's wording for a failed exchange (`dial tcp IP:PORT: connect: connection refused`, ...).
    static func goErrorText(_ result: ExchangeResult, dial: String) -> String {
        switch result {
        case .timedOut: return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        case .endOfFile: return "EOF"
        case let .connectFailed(e): return "dial tcp \(dial): connect: \(String(cString: strerror(e)).lowercased())"
        case let .localFailure(text): return text
        case .reply: return "EOF"
        }
    }
}

/// When a response is complete: the moment the probe's clock stops.
enum HelloResponse {
    /// The status line once the whole response is in, else nil.
    static func complete(_ bytes: [UInt8], atEOF: Bool) -> (status: Int, reason: String)? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            return atEOF ? (0, "malformed HTTP response") : nil
        }
        let reason = statusLine.count > 2 ? String(statusLine[2]) : ""
        let body = bytes[end.upperBound...]
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        if chunked { return body.reversed().starts(with: "0\r\n\r\n".utf8.reversed()) || atEOF ? (status, reason) : nil }
        if let length { return body.count >= length || atEOF ? (status, reason) : nil }
        return atEOF ? (status, reason) : nil
    }
}
