import XCTest
@testable import Datapath

/// Real namespaces, real veths, real traffic. Needs root (skipped otherwise).
final class PolicyDatapathTests: XCTestCase {
    static let epA: UInt32 = 1
    static let epB: UInt32 = 2

    private var topo: Topology?
    private var program: PolicyProgram?
    private var reader: DropEventReader?
    private var collector: EventCollector?

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (netns, tc, bpf)") }
        let objectPath = try BPFTestBuild.objectPath()
        let t = Topology()
        topo = t
        // tearDown runs even when setUp throws after this point.
        addTeardownBlock { [weak self] in self?.cleanUp() }
        try t.setUp()
        try t.startServers()
        let prog = try PolicyProgram.load(objectPath: objectPath)
        program = prog
        try prog.attach(ifname: "ha", netnsPath: t.path(t.node), endpoint: Self.epA)
        try prog.attach(ifname: "hb", netnsPath: t.path(t.node), endpoint: Self.epB)
        try prog.setAddresses(endpoint: Self.epA, ipv4: Topology.aV4, ipv6: Topology.aV6)
        try prog.setAddresses(endpoint: Self.epB, ipv4: Topology.bV4, ipv6: Topology.bV6)
        let r = try DropEventReader(program: prog)
        reader = r
        collector = EventCollector(r)
    }

    private func cleanUp() {
        collector?.cancel()
        reader?.stop()
        if let program {
            try? program.detachAll()
            program.close()
        }
        topo?.tearDown()
        collector = nil
        reader = nil
        program = nil
        topo = nil
    }

    private func env() throws -> (Topology, PolicyProgram, EventCollector) {
        guard let topo, let program, let collector else { throw BPFError(operation: "test setup (topology was not built)", code: ENOENT) }
        return (topo, program, collector)
    }

    func testNoEnforcementAllows() throws {
        let (t, _, c) = try env()
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV6, port: 8080), 0)
        XCTAssertEqual(try t.udp(from: t.podA, host: Topology.bV4, port: 53), 0)
        XCTAssertTrue(c.all.isEmpty, "\(c.all)")
    }

    func testEgressDefaultDenyDropsAndEmitsEvent() throws {
        let (t, p, c) = try env()
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: false)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
        let e = try XCTUnwrap(c.waitFor { $0.destinationPort == 8080 }, "no drop event")
        XCTAssertEqual(e.source, Topology.aV4)
        XCTAssertEqual(e.destination, Topology.bV4)
        XCTAssertEqual(e.proto, 6)
        XCTAssertEqual(e.reasonCode, 1)
        XCTAssertEqual(e.reason, "Policy denied")
        XCTAssertEqual(e.direction, .egress)
        XCTAssertEqual(e.endpoint, Self.epA)
        XCTAssertEqual(e.family, .v4)
        XCTAssertGreaterThan(e.sourcePort, 1023)
        XCTAssertTrue(e.description.contains("xx drop (Policy denied)"), e.description)
        // The other pod is unaffected (b has no policy).
        // Connections into a are not egress traffic of a: the RST of a closed port comes back (7, not 28).
        XCTAssertEqual(try t.curl(from: t.podB, host: Topology.aV4, port: 8080), 7)
        XCTAssertNil(c.all.first { $0.endpoint == Self.epB })
    }

    func testEgressAllowRuleAndRepliesViaConntrack() throws {
        let (t, p, c) = try env()
        // Default-deny everywhere: replies can only pass through conntrack.
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: true)
        try p.setEnforcement(endpoint: Self.epB, egress: true, ingress: true)
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "\(Topology.bV4)/32", proto: .tcp, port: 8080)
        try p.allow(endpoint: Self.epB, direction: .ingress, cidr: "198.18.1.0/24", proto: .tcp, port: 8080)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0)
        XCTAssertTrue(c.all.isEmpty, "unexpected drops: \(c.all)")
        // b may not open connections towards a on its own.
        XCTAssertEqual(try t.curl(from: t.podB, host: Topology.aV4, port: 8080), 28)
        XCTAssertNotNil(c.waitFor { $0.endpoint == Self.epB && $0.direction == .egress && $0.reasonCode == 1 })
        XCTAssertEqual(Set(try p.rules(endpoint: Self.epA, direction: .egress).map(\.description)),
                       ["egress 198.18.2.2/32 8080/TCP"])
    }

    func testAllowForDifferentPortStillDrops() throws {
        let (t, p, c) = try env()
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: false)
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "\(Topology.bV4)/32", proto: .tcp, port: 9090)
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "\(Topology.bV4)/32", proto: .udp, port: 8080)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
        XCTAssertNotNil(c.waitFor { $0.destinationPort == 8080 && $0.reasonCode == 1 })
        // A broader L3-only rule (any proto, any port) opens it.
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "198.18.0.0/15")
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0)
        // Revoking goes back to deny.
        XCTAssertTrue(try p.revoke(endpoint: Self.epA, direction: .egress, cidr: "198.18.0.0/15"))
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
    }

    func testIngressEnforcementOnServer() throws {
        let (t, p, c) = try env()
        try p.setEnforcement(endpoint: Self.epB, egress: false, ingress: true)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
        let e = try XCTUnwrap(c.waitFor { $0.reasonCode == 2 }, "no ingress drop event")
        XCTAssertEqual(e.direction, .ingress)
        XCTAssertEqual(e.endpoint, Self.epB)
        XCTAssertEqual(e.source, Topology.aV4)
        XCTAssertEqual(e.destination, Topology.bV4)
        XCTAssertEqual(e.destinationPort, 8080)
        XCTAssertEqual(e.reason, "Policy denied")

        try p.allow(endpoint: Self.epB, direction: .ingress, cidr: Topology.aV4, proto: .tcp, port: 8080)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0)
        // Allowing a's address does not open port 53.
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 53), 28)
    }

    func testDNSAnyProtocolRule() throws {
        let (t, p, c) = try env()
        // Ingress enforced too: the UDP answers pass only as conntrack replies.
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: true)
        XCTAssertEqual(try t.udp(from: t.podA, host: Topology.bV4, port: 53), 28)
        let e = try XCTUnwrap(c.waitFor { $0.proto == 17 })
        XCTAssertEqual(e.destinationPort, 53)
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "198.18.2.0/24", proto: .any, port: 53)
        XCTAssertEqual(try t.udp(from: t.podA, host: Topology.bV4, port: 53), 0, "UDP 53 via ANY")
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 53), 0, "TCP 53 via ANY")
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28, "ANY/53 must not open 8080")
    }

    func testIPv6DenyAndAllow() throws {
        let (t, p, c) = try env()
        // Enforce before any v6 traffic so neighbour discovery must pass the filter.
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: true)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV6, port: 8080), 28)
        let e = try XCTUnwrap(c.waitFor { $0.family == .v6 && $0.destinationPort == 8080 })
        XCTAssertEqual(e.source, Topology.aV6)
        XCTAssertEqual(e.destination, Topology.bV6)
        XCTAssertEqual(e.reasonCode, 1)
        XCTAssertTrue(e.description.contains("[fd00:bf:2::2]:8080"), e.description)

        try p.allow(endpoint: Self.epA, direction: .egress, cidr: "fd00:bf:2::/64", proto: .tcp, port: 8080)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV6, port: 8080), 0)
        // The v6 rule does not allow v4.
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
    }

    func testICMPEchoOption() throws {
        let (t, p, _) = try env()
        guard Shell.which("ping") != nil else { throw XCTSkip("ping (iputils-ping) not installed") }
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: true)
        XCTAssertNotEqual(try t.exec(in: t.podA, ["ping", "-c1", "-W1", Topology.bV4]).status, 0)
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: true, allowICMPEcho: true)
        XCTAssertEqual(try t.exec(in: t.podA, ["ping", "-c1", "-W2", Topology.bV4]).status, 0)
        XCTAssertEqual(try t.exec(in: t.podA, ["ping", "-6", "-c1", "-W2", Topology.bV6]).status, 0)
    }

    func testClearEndpointRestoresAllowAll() throws {
        let (t, p, _) = try env()
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: false)
        try p.allow(endpoint: Self.epA, direction: .egress, cidr: Topology.bV4, proto: .tcp, port: 9999)
        try p.allow(endpoint: Self.epB, direction: .ingress, cidr: Topology.aV4, proto: .tcp, port: 1)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
        try p.clear(endpoint: Self.epA)
        XCTAssertEqual(try p.rules(endpoint: Self.epA, direction: .egress), [])
        XCTAssertEqual(try p.rules(endpoint: Self.epB, direction: .ingress).count, 1, "other endpoints untouched")
        XCTAssertFalse(try p.config(endpoint: Self.epA).egressEnforced)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0)
    }

    func testDetachRestoresTraffic() throws {
        let (t, p, _) = try env()
        try p.setEnforcement(endpoint: Self.epA, egress: true, ingress: false)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
        let filters = try t.exec(in: t.node, ["tc", "filter", "show", "dev", "ha", "ingress"]).output
        XCTAssertTrue(filters.contains("policy_from_pod"), filters)
        try p.detachAll()
        XCTAssertTrue(p.currentAttachments.isEmpty)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 0, "deny leaked after detach")
        for dir in ["ingress", "egress"] {
            let out = try t.exec(in: t.node, ["tc", "filter", "show", "dev", "ha", dir]).output
            XCTAssertFalse(out.contains("bpf"), out)
        }
        // Re-attaching enforces again (maps kept their state).
        try p.attach(ifname: "ha", netnsPath: t.path(t.node), endpoint: Self.epA)
        XCTAssertEqual(try t.curl(from: t.podA, host: Topology.bV4, port: 8080), 28)
    }

    func testAttachErrorsCarryErrnoText() throws {
        let (t, p, _) = try env()
        XCTAssertThrowsError(try p.attach(ifname: "nope0", netnsPath: t.path(t.node), endpoint: 9)) { error in
            XCTAssertEqual((error as? BPFError)?.code, ENODEV, "\(error)")
        }
        XCTAssertThrowsError(try p.attach(ifname: "ha", netnsPath: "/run/netns/bpft-missing-ns", endpoint: 9)) { error in
            XCTAssertEqual((error as? BPFError)?.code, ENOENT, "\(error)")
        }
    }
}
