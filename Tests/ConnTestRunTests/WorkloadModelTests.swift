import XCTest
@testable import ConnTest

final class WorkloadModelTests: XCTestCase {
    func testDefaultWorkloadSplitsServersAndChecks() throws {
        let workload = try RunWorkload(resources: try Variant.default.resources())
        XCTAssertEqual(workload.servers.map(\.name), ["echo-a", "echo-b", "echo-b-host"])
        XCTAssertEqual(workload.checks.count, 11)
        XCTAssertEqual(workload.serviceSelectors["echo-b-host-headless"], "echo-b-host")
    }

    /// The cilium-health scenario: one check per node, bound to it, probing the hostPath socket.
    func testHealthCheckWorkloadIsOneProbeHoldingCheckPerNode() throws {
        let resources = HealthCheckWorkload(socketDirectory: "/var/run/cilium").resources(nodes: ["node-2", "node-1"])
        let workload = try RunWorkload(resources: resources)
        XCTAssertEqual(workload.servers.map(\.name), [])
        XCTAssertEqual(workload.checks.map(\.name), ["cilium-health-node-1", "cilium-health-node-2"])
        let check = try XCTUnwrap(workload.checks.first)
        XCTAssertEqual(check.labels?.component, .health)
        XCTAssertEqual(check.containers.first?.readinessProbe?.command,
                       ["/bin/sh", "-c", "cilium-health -H unix:///var/run/cilium/health.sock status --probe --expect-nodes 2 >/dev/null"])
        XCTAssertEqual(resources[0].document.value(at: "spec", "template", "spec", "nodeName")?.stringValue, "node-1")
        XCTAssertEqual(resources[0].document.value(at: "spec", "template", "spec", "volumes")?.arrayValue?.first?["hostPath"]?["path"]?.stringValue,
                       "/var/run/cilium")
        // Node names that are no Deployment name still give a valid, stable one of at most 63 characters.
        XCTAssertEqual(HealthCheckWorkload.checkName(for: "ip-10-0-1-2.eu-west-1.compute.internal"),
                       "cilium-health-ip-10-0-1-2-eu-west-1-compute-internal")
        let long = HealthCheckWorkload.checkName(for: String(repeating: "n", count: 80))
        XCTAssertEqual(long.count, 63)
        XCTAssertEqual(long, HealthCheckWorkload.checkName(for: String(repeating: "n", count: 80)))
    }

    func testProbeFieldsAndDefaults() throws {
        let workload = try RunWorkload(resources: try Variant.default.resources())
        let podToA = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-a" })
        let probe = try XCTUnwrap(podToA.containers.first?.readinessProbe)
        XCTAssertEqual(probe.command.last, "echo-a:8080/public")
        XCTAssertEqual(probe.timeoutSeconds, 7)
        XCTAssertEqual(probe.periodSeconds, 10)
        XCTAssertEqual(probe.initialDelaySeconds, 0)
        XCTAssertEqual(probe.successThreshold, 1)
        XCTAssertEqual(probe.failureThreshold, 3)
        XCTAssertEqual(podToA.expectation, .allow)
        XCTAssertEqual(podToA.labels?.component, .network)

        let denied = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-a-denied-cnp" })
        XCTAssertEqual(denied.expectation, .deny)

        let echoB = try XCTUnwrap(workload.servers.first { $0.name == "echo-b" })
        XCTAssertEqual(echoB.containers.first?.listenPort, 8080)
        XCTAssertEqual(echoB.containers.first?.ports, [.init(containerPort: 8080, hostPort: 40000)])
        let echoBHost = try XCTUnwrap(workload.servers.first { $0.name == "echo-b-host" })
        XCTAssertTrue(echoBHost.hostNetwork)
        XCTAssertEqual(echoBHost.affinity, [PodAffinityTerm(kind: .affinity, requirements: [.init(key: "name", op: .in, values: ["echo-b"])])])

        let host = try XCTUnwrap(workload.checks.first { $0.name == "host-to-b-multi-node-clusterip" })
        XCTAssertTrue(host.hostNetwork)
        XCTAssertEqual(host.affinity.first?.kind, .antiAffinity)
        XCTAssertEqual(host.topology, .multiNode)
    }

    func testProxyChecksHaveAllowAndLivenessOnlyRejectContainers() throws {
        let workload = try RunWorkload(resources: try Variant.hostport.resources())
        let proxy = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-a-intra-node-proxy-egress-policy" })
        XCTAssertEqual(proxy.containers.count, 2)
        XCTAssertEqual(proxy.containers[0].readinessProbe?.timeoutSeconds, 1, "no timeoutSeconds -> Kubernetes default")
        XCTAssertNil(proxy.containers[1].readinessProbe)
        XCTAssertEqual(proxy.containers[1].livenessProbe?.expectation, .deny)
        XCTAssertEqual(proxy.expectation, .allow)
    }

    func testProbeParsingRejectsNonExecAndBadFields() {
        XCTAssertThrowsError(try ProbeSpec(node: .map([("httpGet", .map([]))]), context: "x"))
        XCTAssertThrowsError(try ProbeSpec(node: .map([("periodSeconds", .string("soon")),
                                                       ("exec", .map([("command", .seq([.string("true")]))]))]), context: "x"))
        let zeroMeansDefault = try? ProbeSpec(node: .map([("periodSeconds", .int(0)),
                                                          ("exec", .map([("command", .seq([.string("true")]))]))]), context: "x")
        XCTAssertEqual(zeroMeansDefault?.periodSeconds, 10)
    }

    func testSkipReasons() throws {
        let workload = try RunWorkload(resources: try Variant.hostport.resources())
        let plan = LocalCapabilities().skipReasons(for: workload)
        XCTAssertEqual(plan["pod-to-external-1111"], LocalCapabilities.noExternalHostReason)
        XCTAssertEqual(plan["pod-to-external-fqdn-allow-google-cnp"], LocalCapabilities.noExternalHostReason)
        // With a (simulated) external host the IP check runs; the FQDN check still carries a toFQDNs rule.
        let external = LocalCapabilities(externalHost: true).skipReasons(for: workload)
        XCTAssertNil(external["pod-to-external-1111"])
        XCTAssertEqual(external["pod-to-external-fqdn-allow-google-cnp"], "unsupported locally: FQDN rules")
        for name in ["pod-to-a-intra-node-proxy-egress-policy", "pod-to-c-multi-node-proxy-ingress-policy",
                     "pod-to-c-intra-node-proxy-to-proxy-policy"] {
            XCTAssertEqual(plan[name], "unsupported locally: L7 rules", name)
        }
        // Without L3/L4 enforcement a policy-dependent check must never pass by accident.
        XCTAssertEqual(plan["pod-to-a-denied-cnp"], LocalCapabilities.noPolicyReason)
        XCTAssertEqual(plan["pod-to-a-allowed-cnp"], LocalCapabilities.noPolicyReason)
        XCTAssertNil(plan["pod-to-b-multi-node-clusterip"])
        let enforcing = LocalCapabilities(policyEnforcement: true).skipReasons(for: workload)
        XCTAssertNil(enforcing["pod-to-a-denied-cnp"], "L3/L4 policies run with enforcement")

        let withInternet = LocalCapabilities(externalHost: true).skipReasons(for: workload)
        XCTAssertNil(withInternet["pod-to-external-1111"])
        XCTAssertEqual(withInternet["pod-to-external-fqdn-allow-google-cnp"], "unsupported locally: FQDN rules")
    }

    func testLegacyUnlabelledVariantStillLoads() throws {
        let workload = try RunWorkload(resources: try Variant.ipv6.resources())
        XCTAssertFalse(workload.checks.isEmpty)
        XCTAssertTrue(workload.checks.allSatisfy { $0.componentName == "-" })
    }
}
