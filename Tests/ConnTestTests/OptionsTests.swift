import Foundation
import XCTest
@testable import ConnTest

final class OptionsTests: XCTestCase {
    func render(_ options: GeneratorOptions, tags: [String] = ["component=all"]) throws -> String {
        ManifestRenderer.dump(try TagSelection.parse(tags).filter(ConnectivitySuite.resources(options)))
    }

    func testNamespaceIsSetOnEveryObject() throws {
        let docs = try loadDocuments(render(GeneratorOptions(namespace: "cilium-test")))
        XCTAssertFalse(docs.isEmpty)
        for doc in docs { XCTAssertEqual(dig(doc, "metadata", "namespace") as? String, "cilium-test", kindAndName(doc)) }
    }

    func testImageOverrides() throws {
        let repo = try render(GeneratorOptions(imageRepository: "registry.local/mirror/"))
        XCTAssertTrue(repo.contains("image: registry.local/mirror/alpine-curl:v1.5.0@sha256:7b286939"))
        XCTAssertTrue(repo.contains("image: registry.local/mirror/json-mock:v1.3.2@sha256:bc6c46c7"))
        XCTAssertFalse(repo.contains("quay.io"))
        let explicit = try render(GeneratorOptions(curlImage: "my/curl:1", echoImage: "my/echo:2", imageRepository: "ignored.io/x"))
        XCTAssertTrue(explicit.contains("image: my/curl:1"))
        XCTAssertTrue(explicit.contains("image: my/echo:2"))
        XCTAssertEqual(Images.rewrite("cilium/demo-client", repository: "r.io/m"), "r.io/m/demo-client")
    }

    func testPortBasesMoveTogetherAndProbesFollow() throws {
        let text = try render(GeneratorOptions(nodePort: 31500, hostPort: 41000))
        XCTAssertTrue(text.contains("nodePort: 31500"))
        XCTAssertTrue(text.contains("hostPort: 41000"))
        XCTAssertTrue(text.contains("hostPort: 41001"))
        XCTAssertTrue(text.contains("echo-b-host-headless:31500/public"))
        XCTAssertTrue(text.contains("echo-b-host-headless:41000/public"))
        XCTAssertTrue(text.contains("localhost:32000"), "host-network echo servers shift with the host ports")
        for old in ["31414", "40000", "40001", "31000"] { XCTAssertFalse(text.contains(old), old) }
        let quarantine = try Variant.quarantine.render(GeneratorOptions(hostPort: 41000))
        XCTAssertTrue(quarantine.contains("echo-c-host-headless:41001/public"))
        XCTAssertTrue(quarantine.contains("port: \"41001\""))
    }

    /// Ports that are node-wide: NodePort, hostPort and host-network listen ports.
    static func nodeWidePorts(_ text: String) throws -> Set<Int> {
        var ports: Set<Int> = []
        for doc in try loadDocuments(text) {
            for port in dig(doc, "spec", "ports") as? [[String: Any]] ?? [] { if let p = port["nodePort"] as? Int { ports.insert(p) } }
            let podSpec = dig(doc, "spec", "template", "spec") as? [String: Any]
            for container in podSpec?["containers"] as? [[String: Any]] ?? [] {
                for port in container["ports"] as? [[String: Any]] ?? [] { if let p = port["hostPort"] as? Int { ports.insert(p) } }
                if podSpec?["hostNetwork"] as? Bool == true {
                    for env in container["env"] as? [[String: Any]] ?? [] { if let p = (env["value"] as? String).flatMap({ Int($0) }) { ports.insert(p) } }
                }
            }
        }
        return ports
    }

    func testTwoCopiesShareNoNodeWidePorts() throws {
        let first = try Self.nodeWidePorts(Variant.hostport.render())
        let second = try Self.nodeWidePorts(Variant.hostport.render(GeneratorOptions(namespace: "copy-2", nodePort: 31415, hostPort: 40010)))
        XCTAssertEqual(first, [31414, 40000, 40001, 31000, 31002])
        XCTAssertEqual(second.count, first.count)
        XCTAssertTrue(first.isDisjoint(with: second), "overlap: \(first.intersection(second))")
    }

    func testExternalTargets() throws {
        let text = try render(GeneratorOptions(externalIP: "9.9.9.9", externalFQDN: "example.org"), tags: [])
        XCTAssertTrue(text.contains("- https://9.9.9.9\n"))
        XCTAssertTrue(text.contains("- example.org\n"))
        XCTAssertTrue(text.contains("- matchPattern: example.org\n"))
        let v6 = try render(GeneratorOptions(externalIP: "2606:4700:4700::1111"), tags: [])
        XCTAssertTrue(v6.contains("https://[2606:4700:4700::1111]"))
    }

    func testDefaultsUnchangedWhenOptionsAreUpstreamValues() throws {
        let explicit = GeneratorOptions(nodePort: 31414, hostPort: 40000, externalIP: "1.1.1.1")
        XCTAssertEqual(try Variant.default.render(explicit), try Variant.default.render())
    }

    func testValidationErrorsAreOneLine() {
        let bad: [GeneratorOptions] = [
            GeneratorOptions(namespace: "Bad_NS"), GeneratorOptions(nodePort: 80), GeneratorOptions(hostPort: 70000),
            GeneratorOptions(externalIP: "1.1.1"), GeneratorOptions(externalFQDN: "bad..name"), GeneratorOptions(curlImage: ""),
            // echo-b-host moves to 31000 + 1000 = 32000: the same port as the NodePort on every node.
            GeneratorOptions(nodePort: 32000, hostPort: 41000), GeneratorOptions(nodePort: 31000),
        ]
        for options in bad {
            XCTAssertThrowsError(try options.validate()) { error in
                XCTAssertFalse(String(describing: error).contains("\n"))
            }
        }
        XCTAssertNoThrow(try ConsistencyTests.optionSets[1].validate())
    }

    func testJSONListParses() throws {
        let json = ManifestRenderer.jsonList(ConnectivitySuite.resources())
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        XCTAssertEqual(object?["kind"] as? String, "List")
        XCTAssertEqual(object?["apiVersion"] as? String, "v1")
        XCTAssertEqual((object?["items"] as? [Any])?.count, ConnectivitySuite.resources().count)
    }
}
