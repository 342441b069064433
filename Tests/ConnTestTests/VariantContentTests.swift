import XCTest
@testable import ConnTest

/// The documents each variant must hold (spec §1.5 and §1.7), by kind, name and order.
final class VariantContentTests: XCTestCase {
    static let servers = ["Deployment/echo-a", "Deployment/echo-b", "Deployment/echo-b-host"]
    static let network = ["Deployment/pod-to-a", "Deployment/pod-to-external-1111"]
    static let policy = ["Deployment/pod-to-a-denied-cnp", "Deployment/pod-to-a-allowed-cnp",
                         "Deployment/pod-to-external-fqdn-allow-google-cnp"]
    static let services = ["Deployment/pod-to-b-multi-node-clusterip", "Deployment/pod-to-b-multi-node-headless",
                           "Deployment/host-to-b-multi-node-clusterip", "Deployment/host-to-b-multi-node-headless"]
    static let nodeport = ["Deployment/pod-to-b-multi-node-nodeport", "Deployment/pod-to-b-intra-node-nodeport"]
    static let hostport = ["Deployment/pod-to-b-multi-node-hostport", "Deployment/pod-to-b-intra-node-hostport"]
    static let proxy = ["Deployment/pod-to-a-intra-node-proxy-egress-policy", "Deployment/pod-to-a-multi-node-proxy-egress-policy",
                        "Deployment/pod-to-c-intra-node-proxy-ingress-policy", "Deployment/pod-to-c-multi-node-proxy-ingress-policy",
                        "Deployment/pod-to-c-intra-node-proxy-to-proxy-policy", "Deployment/pod-to-c-multi-node-proxy-to-proxy-policy"]
    static let bServices = ["Service/echo-a", "Service/echo-b", "Service/echo-b-headless", "Service/echo-b-host-headless"]
    static let cServices = ["Service/echo-c", "Service/echo-c-headless", "Service/echo-c-host-headless"]
    /// `-t component=all`: cue emits every ClusterIP/NodePort service before the headless ones.
    static let allServices = ["Service/echo-a", "Service/echo-b", "Service/echo-c", "Service/echo-b-headless",
                              "Service/echo-b-host-headless", "Service/echo-c-headless", "Service/echo-c-host-headless"]
    static let policyCNPs = ["CiliumNetworkPolicy/pod-to-a-denied-cnp", "CiliumNetworkPolicy/pod-to-a-allowed-cnp",
                             "CiliumNetworkPolicy/pod-to-external-fqdn-allow-google-cnp"]
    static let proxyCNPs = ["CiliumNetworkPolicy/pod-to-a-intra-node-proxy-egress-policy",
                            "CiliumNetworkPolicy/pod-to-a-multi-node-proxy-egress-policy",
                            "CiliumNetworkPolicy/pod-to-c-intra-node-proxy-to-proxy-policy",
                            "CiliumNetworkPolicy/pod-to-c-multi-node-proxy-to-proxy-policy"]
    /// servers.yaml: per-name dumps appended by the Makefile.
    static let serversYAML = ["Deployment/echo-a", "Service/echo-a", "Deployment/echo-b", "Service/echo-b",
                              "Deployment/echo-b-host", "Service/echo-b-host-headless",
                              "Deployment/echo-c", "Service/echo-c", "CiliumNetworkPolicy/echo-c",
                              "Deployment/echo-c-host", "Service/echo-c-host-headless"]

    func documents(_ variant: Variant) throws -> [String] {
        try loadDocuments(variant.render()).map(kindAndName)
    }

    func testDefault() throws {
        XCTAssertEqual(try documents(.default),
                       Self.servers + Self.network + Self.policy + Self.services + Self.nodeport + Self.bServices + Self.policyCNPs)
    }

    func testInternalDropsExternalChecksAndFQDNPolicy() throws {
        XCTAssertEqual(try documents(.internal),
                       Self.servers + ["Deployment/pod-to-a", "Deployment/pod-to-a-denied-cnp", "Deployment/pod-to-a-allowed-cnp"]
                       + Self.services + Self.nodeport + Self.bServices + Array(Self.policyCNPs.prefix(2)))
    }

    func testSingleNodeKeepsRows1to5And11() throws {
        XCTAssertEqual(try documents(.singleNode),
                       Self.servers + Self.network + Self.policy + ["Deployment/pod-to-b-intra-node-nodeport"]
                       + Self.bServices + Self.policyCNPs)
    }

    func testHostportIsComponentAll() throws {
        XCTAssertEqual(try documents(.hostport),
                       Self.servers + ["Deployment/echo-c", "Deployment/echo-c-host"] + Self.network + Self.policy + Self.proxy
                       + Self.services + Self.hostport + Self.nodeport + Self.allServices
                       + Self.policyCNPs + Self.proxyCNPs + ["CiliumNetworkPolicy/echo-c"])
    }

    func testProxy() throws {
        XCTAssertEqual(try documents(.proxy),
                       ["Deployment/echo-c", "Deployment/echo-c-host"] + Self.proxy + Self.cServices + Self.proxyCNPs
                       + ["CiliumNetworkPolicy/echo-c"] + Self.serversYAML)
    }

    func testQuarantine() throws {
        let names = ["pod-to-a-multi-node-hostport-proxy-egress", "pod-to-a-intra-node-hostport-proxy-egress",
                     "pod-to-c-multi-node-hostport-proxy-ingress", "pod-to-c-intra-node-hostport-proxy-ingress",
                     "pod-to-c-multi-node-hostport-proxy-to-proxy", "pod-to-c-intra-node-hostport-proxy-to-proxy"]
        let cnps = [names[0], names[1], names[4], names[5]].map { "CiliumNetworkPolicy/\($0)" }
        XCTAssertEqual(try documents(.quarantine), names.map { "Deployment/\($0)" } + cnps + Self.serversYAML)
    }

    func testDebugTools() throws {
        XCTAssertEqual(try documents(.debugTools), ["Deployment/query-dns-policy", "CiliumNetworkPolicy/query-dns-policy"])
        let docs = try loadDocuments(Variant.debugTools.render())
        let container = (dig(docs[0], "spec", "template", "spec", "containers") as? [[String: Any]])?.first
        XCTAssertEqual(container?["image"] as? String, "cilium/demo-client")
        XCTAssertEqual(dig(container, "readinessProbe", "exec", "command") as? [String], ["true"])
    }

    func testNetpolOnly() throws {
        XCTAssertEqual(try documents(.netpolOnly),
                       Self.servers + Self.network + Self.policy + Self.services + Self.nodeport + Self.bServices
                       + ["NetworkPolicy/pod-to-a-denied-cnp"] + Self.hostport + Self.nodeport
                       + Self.allServices)
        let netpol = try loadDocuments(Variant.netpolOnly.render()).first { ($0["kind"] as? String) == "NetworkPolicy" }
        XCTAssertEqual(dig(netpol, "spec", "policyTypes") as? [String], ["Egress"])
    }

    func testIPv6LegacyLayout() throws {
        var expected = ["Service/echo-a", "Deployment/echo-a", "Service/echo-b", "Service/echo-b-headless", "Deployment/echo-b",
                        "Deployment/echo-b-host", "Service/echo-b-host-headless", "Service/echo-c", "Deployment/echo-c",
                        "CiliumNetworkPolicy/echo-c-allow-l7-ingress",
                        "Deployment/host-to-b-multi-node-clusterip", "Deployment/host-to-b-multi-node-headless",
                        "Deployment/pod-to-a-allowed-cnp", "CiliumNetworkPolicy/pod-to-a-allowed-cnp",
                        "Deployment/pod-to-a-l3-denied-cnp", "CiliumNetworkPolicy/pod-to-a-l3-denied-cnp"]
        for t in ["intra-node", "multi-node"] {
            for outcome in ["allow", "reject"] {
                expected += ["Deployment/pod-to-a-\(t)-proxy-egress-\(outcome)", "CiliumNetworkPolicy/pod-to-a-\(t)-proxy-egress-\(outcome)"]
            }
        }
        expected += ["Deployment/pod-to-a", "Deployment/pod-to-b-intra-node-nodeport", "Deployment/pod-to-b-intra-node",
                     "Deployment/pod-to-b-multi-node-clusterip", "Deployment/pod-to-b-multi-node-headless",
                     "Deployment/pod-to-b-multi-node-nodeport"]
        for t in ["intra-node", "multi-node"] {
            expected += ["Deployment/pod-to-c-\(t)-proxy-ingress-allow", "Deployment/pod-to-c-\(t)-proxy-ingress-reject",
                         "Deployment/pod-to-c-\(t)-proxy-to-proxy-allow", "CiliumNetworkPolicy/pod-to-c-\(t)-proxy-to-proxy-allow",
                         "Deployment/pod-to-c-\(t)-proxy-to-proxy-reject", "CiliumNetworkPolicy/pod-to-c-\(t)-proxy-to-proxy-visibility"]
        }
        XCTAssertEqual(try documents(.ipv6), expected)
        let text = try Variant.ipv6.render()
        XCTAssertTrue(text.contains("nodePort: 31313"))
        XCTAssertTrue(text.contains(Images.legacyJSONMock))
    }

    func testProxyChecksHaveAllowAndRejectContainers() throws {
        let docs = try loadDocuments(Variant.proxy.render())
        let check = try XCTUnwrap(docs.first { kindAndName($0) == "Deployment/pod-to-a-intra-node-proxy-egress-policy" })
        let containers = try XCTUnwrap(dig(check, "spec", "template", "spec", "containers") as? [[String: Any]])
        XCTAssertEqual(containers.map { $0["name"] as? String }, ["pod-to-a-intra-node-proxy-egress-policy-allow-container",
                                                                   "pod-to-a-intra-node-proxy-egress-policy-reject-container"])
        XCTAssertNil(dig(containers[0], "readinessProbe", "timeoutSeconds"), "allow container keeps the Kubernetes default timeout")
        XCTAssertNil(containers[1]["readinessProbe"], "reject container is liveness-only")
        XCTAssertEqual(dig(containers[1], "livenessProbe", "timeoutSeconds") as? Int, 7)
    }
}
