import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal JSON REST client over a unix socket or TCP, bounded by a timeout on every call.
public struct APIClient: Sendable {
    public let endpoint: APIEndpoint
    public let timeout: Duration

    public init(endpoint: APIEndpoint, timeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.timeout = timeout
    }

    /// One attempt per call: a missing socket or a refused port is reported at once, not retried until the deadline.
    static let http: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    public struct Reply: Sendable {
        public let status: Int
        public let body: Data
    }

    /// A non-2xx answer; `message` carries the server's error text.
    public struct HTTPStatusError: Error, CustomStringConvertible {
        public let status: Int
        public let message: String
        public var description: String { message.isEmpty ? "HTTP status \(status)" : "[\(status)] \(message)" }
    }

    /// Transport failure, worded for a person at a terminal.
    public struct TransportError: Error, CustomStringConvertible {
        public let endpoint: APIEndpoint
        public let underlying: String
        public var description: String {
            switch endpoint {
            case .unix(let path): return "cannot reach \(path): \(underlying)"
            case .tcp: return "cannot reach \(endpoint): \(underlying)"
            }
        }
    }

    public func send(_ method: HTTPMethod, _ path: String) async throws -> Reply {
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await Self.http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        } catch {
            throw TransportError(endpoint: endpoint, underlying: describeTransportError(error))
        }
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), body: Data(buffer: body))
    }

    /// Sends the request and decodes a 2xx JSON body; any other status becomes HTTPStatusError.
    public func json<T: Decodable>(_ method: HTTPMethod, _ path: String, as type: T.Type) async throws -> T {
        let reply = try await send(method, path)
        guard (200..<300).contains(reply.status) else {
            throw HTTPStatusError(status: reply.status, message: Self.errorMessage(reply.body))
        }
        return try JSONDecoder().decode(T.self, from: reply.body)
    }

    /// go-swagger error bodies are a bare JSON string or `{"message": ...}`.
    static func errorMessage(_ body: Data) -> String {
        if let text = try? JSONDecoder().decode(String.self, from: body) { return text }
        if let obj = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let msg = obj["message"] as? String {
            return msg
        }
        return String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension Duration {
    /// Whole nanoseconds, the unit NIO timeouts and the health API's latencies use.
    public var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

func describeTransportError(_ error: any Error) -> String {
    if let e = error as? HTTPClientError {
        switch e {
        case .deadlineExceeded, .readTimeout, .connectTimeout: return "request timed out"
        case .remoteConnectionClosed: return "connection closed by server"
        default: break
        }
    }
    if let e = error as? IOError {
        return String(cString: strerror(e.errnoCode)).lowercased()
    }
    if let e = error as? NIOConnectionError, let first = e.connectionErrors.first {
        return describeTransportError(first.error)
    }
    return "\(error)"
}
