import AsyncHTTPClient
import HTTPSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `GET http://<ip>:<port>/hello`, success = 200, latency = wall-clock time. Failures carry the
/// text Go's http client would print, because users grep for those strings.
public final class HTTPProbe: Sendable {
    public let port: Int
    public let timeout: Duration
    private let client: HTTPClient

    public init(port: Int = 4240, timeout: Duration = .seconds(10)) {
        self.port = port
        self.timeout = timeout
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .nanoseconds(timeout.nanoseconds), read: .nanoseconds(timeout.nanoseconds))
        // A fresh connection per probe: a pooled socket would hide a path that stopped accepting connections.
        config.connectionPool = .init(idleTimeout: .milliseconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // One attempt per probe, as Go's client makes: a refused port is an answer, not something to retry.
        config.connectionPool.retryConnectionEstablishment = false
        config.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public enum Outcome: Sendable, Equatable {
        case ok(latencyNanoseconds: Int64)
        case failed(String)
    }

    public func probe(_ ip: String) async -> Outcome {
        let url = "http://\(IPAddressText.hostPort(ip, port))/hello"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Connection", value: "close")
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let elapsed = ContinuousClock.now - started
            guard response.status == .ok else {
                return .failed("unexpected status code: \(response.status.code) \(response.status.code) \(response.status.reasonPhrase)")
            }
            return .ok(latencyNanoseconds: max(1, elapsed.nanoseconds))
        } catch {
            return .failed("Get \"\(url)\": \(Self.goErrorText(error, dial: IPAddressText.hostPort(ip, port)))")
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// Maps NIO/AHC errors onto Go's wording (`dial tcp IP:PORT: connect: connection refused`, ...).
    static func goErrorText(_ error: any Error, dial: String) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "dial tcp \(dial): connect: connection timed out"
            case .deadlineExceeded, .readTimeout:
                return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            case .remoteConnectionClosed: return "EOF"
            default: return "\(e)"
            }
        }
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return goErrorText(first.error, dial: dial) }
            return "dial tcp \(dial): connect: connection timed out"
        }
        if let e = error as? IOError {
            return "dial tcp \(dial): connect: \(String(cString: strerror(e.errnoCode)).lowercased())"
        }
        if error is ChannelError { return "dial tcp \(dial): connect: connection timed out" }
        return "\(error)"
    }
}
