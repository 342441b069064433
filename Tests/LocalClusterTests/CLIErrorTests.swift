import Agent
import Foundation
import XCTest

/// What a user sees when they get something wrong: one clear error, a non-zero exit.
final class CLIErrorTests: XCTestCase {
    var binDir: String { ClusterNaming.binDir }

    func testUnreachableSocketGetsUpstreamErrorAndAHint() throws {
        let r = try Command.run(["\(binDir)/cilium-health", "status", "-H", "unix:///nonexistent/health.sock"])
        XCTAssertEqual(r.status, 1)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("Error: Cannot get status: ") == true, r.stderr)
        XCTAssertTrue(lines.last?.contains("CILIUM_HEALTH_SOCK") == true, r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testInvalidHostFormat() throws {
        // Global options go before or after the subcommand, as with upstream's CLI.
        for args in [["ping", "-H", "localhost:4240"], ["-H", "localhost:4240", "ping"]] {
            let r = try Command.run(["\(binDir)/cilium-health"] + args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertEqual(r.stderr, "Error: invalid host format 'localhost:4240'\n", "\(args)")
        }
    }

    func testBadAgentInputIsRefusedWithoutSideEffects() throws {
        let state = NSTemporaryDirectory() + "nethealth-cli-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: state) }
        for (args, expected) in [
            (["cluster", "up", "--nodes", "0", "--name", "cli-bad"], "--nodes must be between 1 and 200"),
            (["cluster", "up", "--nodes", "2", "--name", "Bad_Name"], "invalid cluster name 'Bad_Name'"),
            (["cluster", "up", "--nodes", "2", "--name", "cli-bad", "--probe-ratio", "2"], "--probe-ratio must be within [0, 1]"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--drop", "udp"], "udp"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--delay", "0"], "--delay must be 1-10000 milliseconds"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--delay", "10001"], "--delay must be 1-10000 milliseconds"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--delay", "50"], "cluster 'cli-bad' is not up"),
            (["cluster", "exec", "--name", "cli-bad", "node-1", "--", "true"], "cluster 'cli-bad' is not up"),
            (["monitor", "--name", "cli-bad", "--type", "trace"], "--type trace: the local datapath raises only drop events"),
            (["monitor", "--name", "cli-bad", "--type", "drops"], "unknown --type 'drops'"),
            (["monitor", "--name", "cli-bad", "--duration", "0"], "--duration must be a positive number"),
            (["monitor", "--name", "cli-bad", "--type", "drop", "--duration", "1"], "cluster 'cli-bad' is not up"),
        ] {
            let r = try Command.run(["env", "NETHEALTH_STATE_DIR=\(state)", "\(binDir)/agent"] + args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(Netns.list().contains { $0.hasPrefix("nh-cli-bad") })
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/cli-bad"))
    }
}
