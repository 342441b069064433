import Foundation
import XCTest
import Yams
@testable import ConnTest

/// Cross-object checks over every variant, with default and non-default options.
final class ConsistencyTests: XCTestCase {
    static let optionSets: [GeneratorOptions] = [
        GeneratorOptions(),
        GeneratorOptions(namespace: "second-copy", imageRepository: "registry.local/mirror", nodePort: 31500,
                         hostPort: 41000, externalIP: "2606:4700:4700::1111", externalFQDN: "example.org"),
    ]

    struct Output {
        let variant: Variant
        let docs: [[String: Any]]
        var deployments: [[String: Any]] { docs.filter { $0["kind"] as? String == "Deployment" } }
        func names(_ kind: String) -> Set<String> {
            Set(docs.filter { $0["kind"] as? String == kind }.compactMap { dig($0, "metadata", "name") as? String })
        }
    }

    func outputs() throws -> [Output] {
        try Self.optionSets.flatMap { options in
            try Variant.allCases.map { Output(variant: $0, docs: try loadDocuments($0.render(options))) }
        }
    }

    static func containers(_ deployment: [String: Any]) -> [[String: Any]] {
        dig(deployment, "spec", "template", "spec", "containers") as? [[String: Any]] ?? []
    }

    /// The host part of every curl target in a deployment's probes.
    static func probeHosts(_ deployment: [String: Any]) -> [String] {
        var hosts: [String] = []
        for container in containers(deployment) {
            for probe in ["readinessProbe", "livenessProbe"] {
                guard let command = dig(container, probe, "exec", "command") as? [String] else { continue }
                guard let target = command.last?.split(separator: " ").last.map(String.init), command.contains(where: { $0.contains("curl") }) else { continue }
                var rest = Substring(target)
                if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
                if rest.hasPrefix("[") { hosts.append(String(rest.dropFirst().prefix { $0 != "]" })); continue }
                hosts.append(String(rest.prefix { $0 != ":" && $0 != "/" }))
            }
        }
        return hosts
    }

    func testEveryProbeTargetResolvesInTheSameOutput() throws {
        for output in try outputs() {
            let services = output.names("Service")
            let hostNetworkServers = Set(output.deployments.filter {
                dig($0, "spec", "template", "spec", "hostNetwork") as? Bool == true
            }.compactMap { dig($0, "metadata", "name") as? String })
            for deployment in output.deployments {
                let name = dig(deployment, "metadata", "name") as? String ?? "?"
                for host in Self.probeHosts(deployment) {
                    if host == "localhost" || GeneratorOptions.isIPAddress(host) || host.contains(".") { continue }  // self / external
                    XCTAssertTrue(services.contains(host) || hostNetworkServers.contains(host),
                                  "\(output.variant): \(name) probes \(host), which has no Service or hostNetwork backend")
                }
            }
        }
    }

    func testServicesSelectExistingOrDeclaredServers() throws {
        for output in try outputs() where output.variant != .netpolOnly {  // netpol-only ships echo-c services without echo-c, as upstream
            let deployments = output.names("Deployment")
            for service in output.docs where service["kind"] as? String == "Service" {
                let selector = dig(service, "spec", "selector", "name") as? String ?? "?"
                XCTAssertTrue(deployments.contains(selector), "\(output.variant): \(kindAndName(service)) selects missing \(selector)")
            }
        }
    }

    func testEveryPolicySelectsAnExistingDeployment() throws {
        for output in try outputs() {
            let deployments = output.names("Deployment")
            for policy in output.docs where ["CiliumNetworkPolicy", "NetworkPolicy"].contains(policy["kind"] as? String ?? "") {
                let selected = (dig(policy, "spec", "endpointSelector", "matchLabels", "name")
                                ?? dig(policy, "spec", "podSelector", "matchLabels", "name")) as? String
                XCTAssertNotNil(selected.flatMap { deployments.contains($0) ? $0 : nil },
                                "\(output.variant): \(kindAndName(policy)) selects \(selected ?? "nothing")")
            }
        }
    }

    func testEveryMultiNodeCheckHasAntiAffinityAndIntraNodeHasAffinity() throws {
        for output in try outputs() {
            for deployment in output.deployments {
                let name = dig(deployment, "metadata", "name") as? String ?? ""
                let affinity = dig(deployment, "spec", "template", "spec", "affinity") as? [String: Any]
                if name.contains("multi-node") {
                    XCTAssertNotNil(affinity?["podAntiAffinity"], "\(output.variant): \(name) lacks podAntiAffinity")
                }
                if name.contains("intra-node") {
                    XCTAssertNotNil(affinity?["podAffinity"], "\(output.variant): \(name) lacks podAffinity")
                }
            }
        }
    }

    func testLabelsMatchNames() throws {
        for output in try outputs() {
            for doc in output.docs {
                guard let labels = dig(doc, "metadata", "labels") as? [String: Any] else { continue }
                XCTAssertEqual(labels["name"] as? String, dig(doc, "metadata", "name") as? String)
                XCTAssertEqual(Set(labels.keys), ["name", "topology", "component", "traffic", "quarantine", "type"])
            }
        }
    }

    /// Yams reads back exactly the model: types (quoted "5" stays a string), order-free equality.
    func testOutputRoundTripsThroughYams() throws {
        for options in Self.optionSets {
            for variant in Variant.allCases {
                let resources = try variant.resources(options)
                let parsed = try loadDocuments(variant.render(options))
                XCTAssertEqual(parsed.count, resources.count, "\(variant)")
                for (doc, resource) in zip(parsed, resources) {
                    XCTAssertTrue(NSDictionary(dictionary: doc).isEqual(to: Self.plain(resource.document) as? [String: Any] ?? [:]),
                                  "\(variant): \(resource.kind.rawValue)/\(resource.name) does not round-trip")
                }
                // And Yams' own serialisation of what it read parses to the same thing.
                let nodes = try Array(Yams.compose_all(yaml: variant.render(options)))
                let reserialised = try Yams.serialize(nodes: nodes)
                let reparsed = try loadDocuments(reserialised)
                XCTAssertEqual(reparsed.count, parsed.count)
                for (a, b) in zip(reparsed, parsed) { XCTAssertTrue(NSDictionary(dictionary: a).isEqual(to: b)) }
            }
        }
    }

    static func plain(_ node: YAMLNode) -> Any {
        switch node {
        case .styled(let inner, _): return plain(inner)
        case .string(let s): return s
        case .int(let i): return i
        case .bool(let b): return b
        case .seq(let items): return items.map(plain)
        case .map(let pairs): return Dictionary(pairs.map { ($0.0, plain($0.1)) }, uniquingKeysWith: { a, _ in a })
        }
    }
}
