import HealthDaemon
import XCTest

final class ProbeIntervalTests: XCTestCase {
    /// The spec's table for ratio 0.5 (upstream 1.17+ formula).
    func testIntervalScalesWithAddressCount() throws {
        let interval = try ProbeInterval(ratio: 0.5)
        let expected: [(Int, Double)] = [(1, 41.6), (2, 65.9), (4, 96.6), (6, 116.8), (10, 143.9), (20, 182.7),
                                         (100, 276.9), (200, 318.2), (1000, 414.5), (2000, 456.1), (10000, 552.6)]
        for (count, seconds) in expected {
            XCTAssertEqual(interval.seconds(ipCount: count), seconds, accuracy: 0.05, "ipCount \(count)")
        }
        XCTAssertEqual(interval.seconds(ipCount: 0), 60)
        XCTAssertEqual(try ProbeInterval(ratio: 0).seconds(ipCount: 1), 6.93, accuracy: 0.01)
        XCTAssertThrowsError(try ProbeInterval(ratio: 1.5))
    }
}

final class LaunchScheduleTests: XCTestCase {
    func testLaunchesAreSpreadEvenlyFromTheStart() {
        let offsets = LaunchSchedule.offsets(count: 4, across: .seconds(20))
        XCTAssertEqual(offsets, [.zero, .seconds(5), .seconds(10), .seconds(15)])
        XCTAssertEqual(LaunchSchedule.offsets(count: 0, across: .seconds(20)), [])
        XCTAssertEqual(LaunchSchedule.offsets(count: 1, across: .seconds(20)), [.zero])
    }
}
