import XCTest
@testable import Datapath

/// Tests that need no privileges.
final class UnitTests: XCTestCase {
    func testPrefixParsing() throws {
        let p = try IPPrefix("198.18.7.9/15")
        XCTAssertEqual(p.family, .v4)
        XCTAssertEqual(p.length, 15)
        XCTAssertEqual(p.description, "198.18.0.0/15")
        XCTAssertEqual(try IPPrefix("198.18.1.2").description, "198.18.1.2/32")
        XCTAssertEqual(try IPPrefix("fd00:bf:2::2/64").description, "fd00:bf:2::/64")
        XCTAssertEqual(try IPPrefix("fd00::1").length, 128)
        XCTAssertThrowsError(try IPPrefix("198.18.0.0/33"))
        XCTAssertThrowsError(try IPPrefix("nonsense"))
        XCTAssertThrowsError(try IPPrefix("fd00::/x"))
    }

    func testPrefixContains() throws {
        let bench = try IPPrefix("198.18.0.0/15")
        XCTAssertTrue(bench.contains("198.18.0.1"))
        XCTAssertTrue(bench.contains("198.19.255.255"))
        XCTAssertFalse(bench.contains("198.20.0.0"))
        XCTAssertFalse(bench.contains("198.17.255.255"))
        XCTAssertFalse(bench.contains("fd00::1"), "another family is never inside")
        XCTAssertFalse(bench.contains("nonsense"))
        XCTAssertFalse(bench.contains("198.18.0.1/8"), "an address, not a prefix")
        XCTAssertTrue(try IPPrefix("fd00::/8").contains("fd00:198::11"))
        XCTAssertFalse(try IPPrefix("fd00::/8").contains("fe80::1"))
        XCTAssertTrue(try IPPrefix("0.0.0.0/0").contains("1.1.1.1"))
    }

    func testPolicyKeyLayout() throws {
        let k = PolicyKey(endpoint: 7, prefix: try IPPrefix("198.18.2.0/24"), proto: 6, port: 8080)
        XCTAssertEqual(k.raw.count, PolicyKey.size)
        XCTAssertEqual(Array(k.raw[0..<4]), [88, 0, 0, 0])      // 64 + 24
        XCTAssertEqual(Array(k.raw[4..<8]), [7, 0, 0, 0])
        XCTAssertEqual(k.raw[8], 4)
        XCTAssertEqual(k.raw[9], 6)
        XCTAssertEqual(Array(k.raw[10..<12]), [0x1f, 0x90])     // network order
        XCTAssertEqual(Array(k.raw[12..<16]), [198, 18, 2, 0])
        XCTAssertEqual(k.endpoint, 7)
        XCTAssertEqual(k.port, 8080)
        XCTAssertEqual(k.cidr, "198.18.2.0/24")
    }

    func testPodConfigRoundTrip() {
        var c = PodConfig()
        c.flags = 5
        c.ipv4 = [198, 18, 1, 2]
        XCTAssertEqual(c.raw.count, PodConfig.size)
        let back = PodConfig(raw: c.raw)
        XCTAssertEqual(back, c)
        XCTAssertTrue(back.egressEnforced)
        XCTAssertFalse(back.ingressEnforced)
        XCTAssertTrue(back.allowsICMPEcho)
    }

    func testDropEventDecoding() throws {
        var raw = [UInt8](repeating: 0, count: DropEvent.recordSize)
        withUnsafeBytes(of: UInt64(123)) { raw.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: UInt32(5)) { raw.replaceSubrange(8..<12, with: $0) }
        withUnsafeBytes(of: UInt32(1)) { raw.replaceSubrange(12..<16, with: $0) }
        raw[16] = 1; raw[17] = 6; raw[18] = 6; raw[19] = 1
        withUnsafeBytes(of: UInt16(40000)) { raw.replaceSubrange(20..<22, with: $0) }
        withUnsafeBytes(of: UInt16(8080)) { raw.replaceSubrange(22..<24, with: $0) }
        guard let (_, s) = IPPrefix.parseAddress("fd00:bf:1::2"), let (_, d) = IPPrefix.parseAddress("fd00:bf:2::2") else {
            return XCTFail("parse")
        }
        raw.replaceSubrange(24..<40, with: s)
        raw.replaceSubrange(40..<56, with: d)
        let e = try XCTUnwrap(raw.withUnsafeBytes { DropEvent(bytes: $0) })
        XCTAssertEqual(e.source, "fd00:bf:1::2")
        XCTAssertEqual(e.destination, "fd00:bf:2::2")
        XCTAssertEqual(e.sourcePort, 40000)
        XCTAssertEqual(e.destinationPort, 8080)
        XCTAssertEqual(e.direction, .egress)
        XCTAssertEqual(e.reason, "Policy denied")
        XCTAssertEqual(e.description,
                       "xx drop (Policy denied) flow egress from endpoint 1, ifindex 5: [fd00:bf:1::2]:40000 -> [fd00:bf:2::2]:8080 tcp")
        XCTAssertNil(raw.prefix(20).withUnsafeBytes { DropEvent(bytes: $0) })
    }

    func testProtocolNames() {
        XCTAssertEqual(PolicyProtocol(name: "ANY"), .any)
        XCTAssertEqual(PolicyProtocol(name: "tcp")?.number, 6)
        XCTAssertEqual(PolicyProtocol(name: "UDP")?.number, 17)
        XCTAssertNil(PolicyProtocol(name: "sctpx"))
    }

    func testObjectPathFromEnvironment() {
        XCTAssertEqual(BPFObject.defaultObjectPath(environment: ["DATAPATH_BPF_OBJECT": "/x/y.o"]), "/x/y.o")
    }

    func testOpenMissingObjectCarriesErrno() {
        XCTAssertThrowsError(try BPFObject.open(path: "/nonexistent/policy.bpf.o")) { error in
            guard let e = error as? BPFError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, ENOENT)
            XCTAssertTrue(e.message.lowercased().contains("no such file"), e.message)
        }
    }
}
