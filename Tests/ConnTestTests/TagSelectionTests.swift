import XCTest
@testable import ConnTest

final class TagSelectionTests: XCTestCase {
    func names(_ tags: [String]) throws -> [String] {
        try TagSelection.parse(tags).filter(ConnectivitySuite.resources()).map { "\($0.kind.rawValue)/\($0.name)" }
    }

    func testUnknownKeyAndValueNameTheValidOnes() {
        XCTAssertThrowsError(try TagSelection.parse(["colour=red"])) {
            XCTAssertEqual(String(describing: $0), "unknown tag key \"colour\" (valid keys: component|kind|name|quarantine|topology|traffic|type)")
        }
        XCTAssertThrowsError(try TagSelection.parse(["topology=two-node"])) {
            XCTAssertEqual(String(describing: $0), "invalid value \"two-node\" for tag topology (valid values: any|single-node)")
        }
        XCTAssertThrowsError(try TagSelection.parse(["kind=Pod"])) {
            XCTAssertTrue(String(describing: $0).contains("Deployment|Service|CiliumNetworkPolicy"))
        }
        XCTAssertThrowsError(try TagSelection.parse(["novalue"]))
    }

    func testComponentFilters() throws {
        XCTAssertEqual(try names(["component=network"]),
                       ["Deployment/echo-a", "Deployment/pod-to-a", "Deployment/pod-to-external-1111", "Service/echo-a"])
        XCTAssertTrue(try names(["component=hostport"]).allSatisfy { $0.contains("hostport") })
        XCTAssertFalse(try names([]).contains { $0.contains("proxy") || $0.contains("hostport") })
    }

    func testKindNameAndTraffic() throws {
        XCTAssertEqual(try names(["kind=Service", "name=echo-b"]), ["Service/echo-b"])
        XCTAssertEqual(try names(["name=pod-to-a-denied-cnp"]),
                       ["Deployment/pod-to-a-denied-cnp", "CiliumNetworkPolicy/pod-to-a-denied-cnp"])
        XCTAssertEqual(try names(["traffic=external", "kind=Deployment"]),
                       ["Deployment/pod-to-external-1111", "Deployment/pod-to-external-fqdn-allow-google-cnp"])
    }

    func testLaterTagOverridesEarlier() throws {
        XCTAssertEqual(try names(["component=all", "component=network"]), try names(["component=network"]))
    }

    func testLsTable() throws {
        let table = ResourceTable.render(try TagSelection.parse(["name=echo-a"]).filter(ConnectivitySuite.resources()))
        XCTAssertEqual(table, """
            KIND         COMPONENT       TOPOLOGY    NAME
            Deployment   network-check   any         echo-a
            Service      network-check   any         echo-a

            """)
    }
}
