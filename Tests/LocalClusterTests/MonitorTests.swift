import Agent
import Foundation
import XCTest

/// `agent monitor` ends when its cluster does, instead of waiting forever for events.
final class MonitorTests: XCTestCase {
    func testMonitorExitsWhenTheClusterGoesDown() throws {
        let fixture = try ClusterFixture(nodes: 1)
        defer { fixture.down() }
        let monitor = try BackgroundCommand([fixture.binDir + "/agent", "monitor", "--name", fixture.name, "--type", "drop"],
                                            environment: ["NETHEALTH_STATE_DIR": fixture.stateDir])
        defer { monitor.terminate() }
        XCTAssertTrue(monitor.waitForStderr(containing: "Press Ctrl-C to quit", seconds: 10), monitor.stderr)
        XCTAssertTrue(monitor.process.isRunning)

        let down = try fixture.agent(["cluster", "down", "--name", fixture.name])
        XCTAssertEqual(down.status, 0, down.stderr)
        XCTAssertTrue(monitor.waitForStderr(containing: "went down", seconds: 5), monitor.stderr)
        monitor.process.waitUntilExit()
        XCTAssertEqual(monitor.process.terminationStatus, 1)
        XCTAssertTrue(monitor.stderr.contains("Error: cluster '\(fixture.name)' went down; no more events"), monitor.stderr)
    }
}
