import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A Kubernetes API error as the server states it (a `Status` object), worded for a person:
/// `create nodes: nodes "node-1" is forbidden: User "x" cannot create resource "nodes" …`.
public struct KubeAPIError: Error, CustomStringConvertible, Sendable {
    public let code: Int
    /// The Status reason (`NotFound`, `AlreadyExists`, `Forbidden`, `Conflict`, `Invalid`, …), or "".
    public let reason: String
    public let message: String
    public let method: String
    public let path: String

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }

    public var description: String {
        let text = message.isEmpty ? "HTTP \(code)\(reason.isEmpty ? "" : " \(reason)")" : message
        return "\(method) \(path): \(text)"
    }
}

/// The server could not be reached or did not answer in time.
public struct KubeTransportError: Error, CustomStringConvertible, Sendable {
    public let server: String
    public let reason: String
    public var description: String { "cannot reach the Kubernetes API server at \(server): \(reason)" }
}

/// A JSON REST client for one API server and identity. Every call is bounded by `timeout`; nothing
/// is retried here (callers that heartbeat retry on their own schedule).
public final class KubeClient: Sendable {
    public let connection: KubeConnection
    public let timeout: Duration
    /// TCP connect plus TLS handshake (a server that accepts and never answers TLS ends here).
    public let connectTimeout: Duration
    let http: HTTPClient

    public init(_ connection: KubeConnection, timeout: Duration = .seconds(10)) throws {
        self.connection = connection
        self.timeout = timeout
        connectTimeout = min(timeout, .seconds(5))
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = connection.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
            }
            if case .clientCertificate(let cert, let key) = connection.credential {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
            }
        } catch {
            throw KubeConfig.ConfigError("credentials of \(connection.source) are not valid PEM: \(error)")
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout.connect = TimeAmount(connectTimeout)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// One call; a 2xx body is returned, anything else throws KubeAPIError or KubeTransportError.
    @discardableResult
    public func request(_ method: HTTPMethod, _ path: String, body: Data? = nil,
                        contentType: String = "application/json", timeout: Duration? = nil) async throws -> Data {
        let request = prepared(method, path, body: body, contentType: contentType)
        let bound = timeout ?? self.timeout
        let data: Data
        let status: Int
        do {
            let response = try await http.execute(request, timeout: TimeAmount(bound))
            status = Int(response.status.code)
            data = Data(buffer: try await response.body.collect(upTo: 256 << 20))
        } catch {
            throw KubeTransportError(server: connection.server, reason: Self.describe(error, bound: bound, connectBound: connectTimeout))
        }
        guard (200..<300).contains(status) else {
            throw Self.apiError(status: status, body: data, method: method.rawValue, path: path)
        }
        return data
    }

    /// The request with this identity's headers.
    func prepared(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json") -> HTTPClientRequest {
        var request = HTTPClientRequest(url: connection.server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "nethealth/0.1")
        if case .bearerToken(let token) = connection.credential {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    public func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try Self.decode(type, try await request(.GET, path), path: path)
    }

    /// GET, with a 404 (no such object) as nil rather than an error.
    public func getIfPresent<T: Decodable>(_ path: String, as type: T.Type) async throws -> T? {
        do { return try await get(path, as: type) } catch let e as KubeAPIError where e.isNotFound { return nil }
    }

    @discardableResult
    public func create<T: Encodable>(_ collectionPath: String, _ object: T) async throws -> Data {
        try await request(.POST, collectionPath, body: try Self.encoder.encode(object))
    }

    @discardableResult
    public func replace<T: Encodable>(_ path: String, _ object: T) async throws -> Data {
        try await request(.PUT, path, body: try Self.encoder.encode(object))
    }

    /// RFC 7386 JSON merge patch (lists are replaced whole).
    @discardableResult
    public func mergePatch<T: Encodable>(_ path: String, _ patch: T) async throws -> Data {
        try await request(.PATCH, path, body: try Self.encoder.encode(patch), contentType: "application/merge-patch+json")
    }

    @discardableResult
    public func delete(_ path: String) async throws -> Data {
        try await request(.DELETE, path)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static func decode<T: Decodable>(_ type: T.Type, _ data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw KubeAPIError(code: 200, reason: "", message: "unexpected response body: \(error)", method: "GET", path: path)
        }
    }

    static func apiError(status: Int, body: Data, method: String, path: String) -> KubeAPIError {
        struct Status: Decodable { var message: String?; var reason: String? }
        if let s = try? JSONDecoder().decode(Status.self, from: body), s.message != nil || s.reason != nil {
            return KubeAPIError(code: status, reason: s.reason ?? "", message: s.message ?? "", method: method, path: path)
        }
        let text = String(decoding: body.prefix(400), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return KubeAPIError(code: status, reason: "", message: text, method: method, path: path)
    }

    static func describe(_ error: any Error, bound: Duration, connectBound: Duration) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "no connection (TCP and TLS handshake) within \(connectBound)"
            case .deadlineExceeded, .readTimeout: return "no answer within \(bound)"
            case .remoteConnectionClosed: return "connection closed by server"
            default: break
            }
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? NIOConnectionError, let first = e.connectionErrors.first {
            return describe(first.error, bound: bound, connectBound: connectBound)
        }
        if let e = error as? NIOSSLError { return "TLS: \(e)" }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        return "\(error)"
    }
}

extension KubeClient {
    /// `labelSelector=<selector>` as a query item, percent-encoded (RFC 3986 unreserved kept).
    public static func labelSelectorQuery(_ selector: String) -> String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return "labelSelector=" + (selector.addingPercentEncoding(withAllowedCharacters: unreserved) ?? selector)
    }
}
