import Foundation
import Hummingbird
import KubeClient
import NIOCore
import Testing

/// The reflector against a real HTTP server on loopback speaking the apiserver's list and watch
/// protocol: events apply as they arrive, an expired resourceVersion (an ERROR 410 event) makes it
/// list again, and the next watch resumes from the new list's version.
@Suite struct ReflectorTests {
    /// What the fake apiserver answers, and the watch versions it was asked for.
    actor Script {
        var lists = 0
        var watchVersions: [String] = []
        func list() -> Int { lists += 1; return lists }
        func watched(_ version: String) { watchVersions.append(version) }
    }

    static func node(_ name: String, _ version: String) -> String {
        #"{"metadata":{"name":"\#(name)","resourceVersion":"\#(version)"}}"#
    }

    @Test func appliesEventsRelistsOn410AndResumes() async throws {
        let script = Script()
        let router = Router()
        router.get("/api/v1/nodes") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query.get("watch") == "1" else {
                // First list: a; after the expiry: a and b (c, added by the first watch, is gone again).
                let n = await script.list()
                let items = n == 1 ? [Self.node("a", "10")] : [Self.node("a", "10"), Self.node("b", "20")]
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(
                    string: #"{"metadata":{"resourceVersion":"\#(n == 1 ? 10 : 20)"},"items":[\#(items.joined(separator: ","))]}"#)))
            }
            let version = query.get("resourceVersion") ?? ""
            await script.watched(version)
            return Response(status: .ok, body: ResponseBody { writer in
                if version == "10" {
                    try await writer.write(ByteBuffer(string: #"{"type":"ADDED","object":\#(Self.node("c", "11"))}"# + "\n"))
                    try await writer.write(ByteBuffer(string: #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 10 (15)"}}"# + "\n"))
                } else {
                    try await writer.write(ByteBuffer(string: #"{"type":"BOOKMARK","object":\#(Self.node("", "21"))}"# + "\n"))
                    try await writer.write(ByteBuffer(string: #"{"type":"DELETED","object":\#(Self.node("a", "22"))}"# + "\n"))
                    try await Task.sleep(for: .seconds(30))  // a watch that stays open
                }
                try await writer.finish(nil)
            })
        }
        let port = PortBox()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in await port.set(channel.localAddress?.port ?? 0) })
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var bound = 0
        for _ in 0..<200 where bound == 0 {
            bound = await port.value
            try await Task.sleep(for: .milliseconds(10))
        }
        let client = try KubeClient(KubeConnection(server: "http://127.0.0.1:\(bound)", certificateAuthorityPEM: nil,
                                                   credential: .none, source: "test"), timeout: .seconds(5))
        let reflector = Reflector<Node>(client: client, collectionPath: "/api/v1/nodes", watchSeconds: 5)
        let run = Task { await reflector.run() }
        defer { run.cancel() }

        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, await reflector.objects.keys.sorted() != ["/b"] {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await reflector.objects.keys.sorted() == ["/b"], "b from the relist, a deleted by the resumed watch")
        #expect(await reflector.lists == 2, "listed again after the 410")
        #expect(await script.watchVersions == ["10", "20"], "each watch starts at its list's resourceVersion")
        run.cancel()
        await client.shutdown()
    }

    @Test func watchErrorsAreAPIErrorsWithTheirCode() async throws {
        let client = try KubeClient(KubeConnection(server: "http://127.0.0.1:9", certificateAuthorityPEM: nil,
                                                   credential: .none, source: "test"), timeout: .seconds(1))
        await #expect(throws: KubeTransportError.self) {
            _ = try await client.watch("/api/v1/nodes", resourceVersion: "1", seconds: 1, as: Node.self) { _ in }
        }
        await client.shutdown()
    }
}

actor PortBox {
    var value = 0
    func set(_ v: Int) { value = v }
}
