import AsyncHTTPClient
import EchoServer
import Foundation
import Logging
import NIOCore
import XCTest

/// Real HTTP over loopback only (127.0.0.1 and [::1]); every server is stopped in a defer.
final class EchoServerHTTPTests: XCTestCase {
    func withServer(host: String, _ body: (Int) async throws -> Void) async throws {
        var logger = Logger(label: "echo-server-test")
        logger.logLevel = .warning  // keep test output readable
        let server = try await EchoServer.start(host: host, port: 0, logger: logger, timeout: .seconds(10))
        do {
            try await body(server.port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func request(_ client: HTTPClient, _ url: String, head: Bool = false) async throws -> (Int, String) {
        var req = HTTPClientRequest(url: url)
        if head { req.method = .HEAD }
        let response = try await client.execute(req, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    func testRoutesOverIPv4() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withServer(host: "127.0.0.1") { port in
                let base = "http://127.0.0.1:\(port)"
                let (publicStatus, publicBody) = try await Self.request(client, base + "/public")
                XCTAssertEqual(publicStatus, 200)
                XCTAssertEqual(publicBody, EchoRoutes.publicBody)
                let decoded = try JSONSerialization.jsonObject(with: Data(publicBody.utf8)) as? [[String: Any]]
                XCTAssertEqual(decoded?.first?["body"] as? String, "public information")
                let (privateStatus, privateBody) = try await Self.request(client, base + "/private")
                XCTAssertEqual(privateStatus, 200)
                XCTAssertTrue(privateBody.contains("private information"))
                let (rootStatus, _) = try await Self.request(client, base + "/")
                XCTAssertEqual(rootStatus, 200)
                let (missingStatus, _) = try await Self.request(client, base + "/no-such-path")
                XCTAssertEqual(missingStatus, 404)
                let (headStatus, headBody) = try await Self.request(client, base + "/public", head: true)
                XCTAssertEqual(headStatus, 200)
                XCTAssertEqual(headBody, "")
                let (headMissing, _) = try await Self.request(client, base + "/nope", head: true)
                XCTAssertEqual(headMissing, 404)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func testIPv6Loopback() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withServer(host: "::1") { port in
                let (status, body) = try await Self.request(client, "http://[::1]:\(port)/public")
                XCTAssertEqual(status, 200)
                XCTAssertEqual(body, EchoRoutes.publicBody)
            }
            // The default "::" bind serves both families.
            try await withServer(host: "::") { port in
                let (v4, _) = try await Self.request(client, "http://127.0.0.1:\(port)/private")
                let (v6, _) = try await Self.request(client, "http://[::1]:\(port)/private")
                XCTAssertEqual([v4, v6], [200, 200])
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func testThousandConcurrentRequests() async throws {
        var configuration = HTTPClient.Configuration()
        // Let the pool open one connection per in-flight request.
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 1000)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await withServer(host: "127.0.0.1") { port in
                let started = Date()
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for i in 0..<1000 {
                        group.addTask {
                            try await Self.request(client, "http://127.0.0.1:\(port)/\(i % 2 == 0 ? "public" : "private")").0
                        }
                    }
                    var all: [Int] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                let elapsed = Date().timeIntervalSince(started)
                print("echo-server: 1000 concurrent AsyncHTTPClient requests in \(String(format: "%.2f", elapsed)) s")
                XCTAssertEqual(statuses.count, 1000)
                XCTAssertTrue(statuses.allSatisfy { $0 == 200 })
                XCTAssertLessThan(elapsed, 60)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// 1000 sockets connected at the same time, then each sends a request and reads the reply.
    func testThousandSimultaneouslyOpenConnections() async throws {
        try await withServer(host: "127.0.0.1") { port in
            let started = Date()
            let result = try await Task.detached { try RawLoopbackClient.holdConnections(count: 1000, port: port) }.value
            let elapsed = Date().timeIntervalSince(started)
            print("echo-server: 1000 simultaneously open raw connections served in \(String(format: "%.2f", elapsed)) s")
            XCTAssertEqual(result.ok, 1000, "failures: \(result.failures.prefix(3))")
        }
    }
}
