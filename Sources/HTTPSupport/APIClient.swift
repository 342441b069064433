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

    /// The response head within `timeout` (the body is the caller's to read).
    private func execute(_ method: HTTPMethod, _ path: String, accept: String) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        do {
            return try await Self.http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        } catch {
            throw TransportError(endpoint: endpoint, underlying: describeTransportError(error))
        }
    }

    public func send(_ method: HTTPMethod, _ path: String) async throws -> Reply {
        let response = try await execute(method, path, accept: "application/json")
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

    /// A streamed response's lines (without their newline), for as long as the server sends them.
    /// `timeout` bounds the wait for the response head, `idleTimeout` each silence after it (the
    /// server must send something, e.g. an empty line, more often). A non-2xx answer is an
    /// HTTPStatusError; a dropped connection or a silence ends the stream with a TransportError.
    /// Ending the iteration closes the connection.
    public func lines(_ path: String, idleTimeout: Duration) -> AsyncThrowingStream<String, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self)
        let endpoint = self.endpoint
        let task = Task {
            let activity = Activity()
            let reading = Task {
                let response = try await execute(.GET, path, accept: "application/x-ndjson")
                guard (200..<300).contains(Int(response.status.code)) else {
                    let body = try await response.body.collect(upTo: 1 << 20)
                    throw HTTPStatusError(status: Int(response.status.code), message: Self.errorMessage(Data(buffer: body)))
                }
                var pending: [UInt8] = []
                do {
                    for try await chunk in response.body {
                        activity.touch()
                        pending += chunk.readableBytesView
                        while let newline = pending.firstIndex(of: 0x0A) {
                            continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                            pending.removeSubrange(...newline)
                        }
                    }
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    throw TransportError(endpoint: endpoint, underlying: describeTransportError(error))
                }
                throw TransportError(endpoint: endpoint, underlying: "connection closed by server")
            }
            let watchdog = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    if activity.idle > idleTimeout {
                        activity.timedOut = true
                        reading.cancel()
                        return
                    }
                }
            }
            defer { watchdog.cancel() }
            do {
                try await withTaskCancellationHandler { try await reading.value } onCancel: { reading.cancel() }
            } catch {
                if activity.timedOut {
                    continuation.finish(throwing: TransportError(endpoint: endpoint, underlying: "no data for \(idleTimeout)"))
                } else {
                    continuation.finish(throwing: error is CancellationError ? nil : error)
                }
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
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

/// When a stream last received bytes.
private final class Activity: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ContinuousClock.now
    private var expired = false

    func touch() { lock.lock(); last = .now; lock.unlock() }

    var timedOut: Bool {
        get { lock.lock(); defer { lock.unlock() }; return expired }
        set { lock.lock(); expired = newValue; lock.unlock() }
    }

    var idle: Duration {
        lock.lock(); defer { lock.unlock() }
        return ContinuousClock.now - last
    }
}
