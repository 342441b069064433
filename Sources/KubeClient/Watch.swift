import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// One event of a watch stream (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`).
public struct WatchEvent<Object: KubeMetadataObject>: Sendable {
    public var type: String
    public var object: Object
}

extension KubeClient {
    /// Watches `collectionPath` (with `query`, e.g. `labelSelector=…`) from `resourceVersion`, calling
    /// `onEvent` for each event, until the server ends the watch. The server is asked to end it after
    /// `seconds`; the client gives up `seconds + 10` after the start whatever the server does, so a
    /// watch never hangs. Returns the last resourceVersion seen (resume from it). An expired
    /// resourceVersion (410 Gone, as an HTTP status or an ERROR event) throws a KubeAPIError with
    /// code 410: the caller must list again.
    public func watch<Object: KubeMetadataObject>(
        _ collectionPath: String, query: String? = nil, resourceVersion: String, seconds: Int = 60,
        as type: Object.Type, onEvent: @escaping @Sendable (WatchEvent<Object>) async -> Void
    ) async throws -> String {
        let path = collectionPath + "?" + [query, "watch=1", "allowWatchBookmarks=true",
                                           "resourceVersion=\(resourceVersion)", "timeoutSeconds=\(seconds)"]
            .compactMap { $0 }.joined(separator: "&")
        let bound = Duration.seconds(seconds + 10)
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                try await self.streamEvents(path, resourceVersion: resourceVersion, bound: bound, onEvent: onEvent)
            }
            group.addTask {
                try await Task.sleep(for: bound)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let last = first else {
                throw KubeTransportError(server: connection.server, reason: "watch of \(collectionPath) did not end within \(bound)")
            }
            return last
        }
    }

    private func streamEvents<Object: KubeMetadataObject>(
        _ path: String, resourceVersion: String, bound: Duration, onEvent: @Sendable (WatchEvent<Object>) async -> Void
    ) async throws -> String {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(prepared(.GET, path), timeout: TimeAmount(timeout))
        } catch {
            throw KubeTransportError(server: connection.server, reason: Self.describe(error, bound: timeout, connectBound: connectTimeout))
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
            throw Self.apiError(status: status, body: body, method: "GET", path: path)
        }
        var last = resourceVersion
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending += chunk.readableBytesView
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = Data(pending[..<newline])
                    pending.removeSubrange(...newline)
                    guard !line.isEmpty else { continue }
                    let event = try Self.decodeEvent(line, as: Object.self, path: path)
                    if let rv = event.object.metadata.resourceVersion { last = rv }
                    if event.type != "BOOKMARK" { await onEvent(event) }
                }
            }
        } catch let error as KubeAPIError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw KubeTransportError(server: connection.server, reason: Self.describe(error, bound: bound, connectBound: connectTimeout))
        }
        return last
    }

    static func decodeEvent<Object: KubeMetadataObject>(_ line: Data, as: Object.Type, path: String) throws -> WatchEvent<Object> {
        let head = try decode(WatchHead.self, line, path: path)
        if head.type == "ERROR" {
            let s = (try? JSONDecoder().decode(WatchEnvelope<WatchStatus>.self, from: line))?.object
            throw KubeAPIError(code: s?.code ?? 500, reason: s?.reason ?? "", message: s?.message ?? "watch error",
                               method: "WATCH", path: path)
        }
        return WatchEvent(type: head.type, object: try decode(WatchEnvelope<Object>.self, line, path: path).object)
    }
}

private struct WatchHead: Decodable { var type: String }
private struct WatchEnvelope<T: Decodable>: Decodable { var object: T }
/// The Status of an ERROR event (410 Expired when the version is too old).
private struct WatchStatus: Decodable { var code: Int?; var reason: String?; var message: String? }

/// A list-then-watch cache of one collection, as client-go's reflector keeps it: objects by
/// namespace/name, resumed from the last resourceVersion when a watch ends, listed afresh when the
/// version expired (410) or the watch failed. While the server is unreachable the last view stays.
public actor Reflector<Object: KubeMetadataObject> {
    public let client: KubeClient
    public let collectionPath: String
    public let query: String?
    private let watchSeconds: Int
    private(set) public var objects: [String: Object] = [:]
    /// Whether a list has succeeded at least once (until then `objects` means nothing).
    private(set) public var synced = false
    /// The last error, if the latest attempt failed (e.g. 404 when a CRD is not installed).
    private(set) public var lastError: (any Error)?
    /// How many lists were made (the first, then one per expiry or failure).
    private(set) public var lists = 0

    public init(client: KubeClient, collectionPath: String, query: String? = nil, watchSeconds: Int = 60) {
        self.client = client
        self.collectionPath = collectionPath
        self.query = query
        self.watchSeconds = watchSeconds
    }

    /// Lists and watches until cancelled. `retryAfter` spaces attempts after a failure, `absentRetry`
    /// after a 404 (a resource this cluster does not serve) or a 403 (one we may not read).
    public func run(retryAfter: Duration = .seconds(1), absentRetry: Duration = .seconds(30)) async {
        while !Task.isCancelled {
            do {
                var version = try await list()
                lastError = nil
                while !Task.isCancelled {
                    version = try await client.watch(collectionPath, query: query, resourceVersion: version,
                                                     seconds: watchSeconds, as: Object.self) { event in
                        await self.apply(event)
                    }
                }
            } catch is CancellationError {
                return
            } catch let error as KubeAPIError where error.code == 410 {
                lastError = error  // expired: list again at once
            } catch {
                lastError = error
                // Not served (a CRD not installed) or not ours to read (RBAC): asked again now and then.
                let absent = (error as? KubeAPIError).map { $0.isNotFound || $0.code == 403 } == true
                do { try await Task.sleep(for: absent ? absentRetry : retryAfter) } catch { return }
            }
        }
    }

    private func list() async throws -> String {
        let path = collectionPath + (query.map { "?\($0)" } ?? "")
        let list = try await client.get(path, as: ObjectList<Object>.self)
        lists += 1
        objects = Dictionary(list.items.map { (Self.key($0.metadata), $0) }, uniquingKeysWith: { _, b in b })
        synced = true
        return list.metadata?.resourceVersion ?? ""
    }

    private func apply(_ event: WatchEvent<Object>) {
        let key = Self.key(event.object.metadata)
        if event.type == "DELETED" { objects[key] = nil } else { objects[key] = event.object }
    }

    static func key(_ m: ObjectMeta) -> String { "\(m.namespace ?? "")/\(m.name ?? "")" }
}
