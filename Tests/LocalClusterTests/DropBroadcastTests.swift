@testable import Agent
import Foundation
import XCTest

/// The agent's drop fan-out: every reader gets every drop from when it subscribed, and a reader
/// that does not read loses its own oldest drops (counted) without holding up anyone else.
final class DropBroadcastTests: XCTestCase {
    static func record(_ n: Int) -> DropRecord {
        DropRecord(time: "2026-12-01T00:00:00Z", node: "node-1", direction: "egress", reason: "Policy denied", proto: "tcp",
                   sourceIP: "198.19.1.100", destinationIP: "198.18.128.10", sourcePort: n, destinationPort: 8080,
                   sourcePod: "ns/client", destinationPod: nil, destinationService: "ns/echo", endpoint: 1, ifindex: 7,
                   summary: "drop \(n)")
    }

    func testSlowReaderLosesOnlyItsOwnOldestDrops() async throws {
        let broadcast = DropBroadcast(bufferLimit: 8, historyLimit: 4, heartbeatEvery: .seconds(3600))
        let before = broadcast.subscribe()
        broadcast.publish(Self.record(0))
        let fast = broadcast.subscribe()
        let slow = broadcast.subscribe()
        let replaying = broadcast.subscribe(replay: true)
        XCTAssertEqual(broadcast.stats.readers, 4)

        // The fast reader drains as drops come; the slow one reads nothing until the end.
        let fastReader = Task {
            var ports: [Int] = []
            for await case .drop(let r) in fast.messages {
                ports.append(r.sourcePort ?? -1)
                if ports.count == 20 { break }
            }
            return ports
        }
        for n in 1...20 {
            broadcast.publish(Self.record(n))
            try await Task.sleep(for: .milliseconds(2))
        }
        let fastPorts = await fastReader.value
        XCTAssertEqual(fastPorts, Array(1...20), "the fast reader got every drop from when it subscribed, in order")

        broadcast.finish()
        var slowPorts: [Int] = []
        for await case .drop(let r) in slow.messages { slowPorts.append(r.sourcePort ?? -1) }
        XCTAssertEqual(slowPorts, Array(13...20), "the slow reader kept its newest 8")
        XCTAssertEqual(broadcast.lost(slow.id), 0, "a finished reader is gone")
        XCTAssertEqual(broadcast.stats.lost, 12 + 13 + 13, "slow lost 12 of 20; the early and the replaying reader 13 of 21 each")

        var early: [Int] = []
        for await case .drop(let r) in before.messages { early.append(r.sourcePort ?? -1) }
        XCTAssertEqual(early.first, 13)
        var replayed: [Int] = []
        for await case .drop(let r) in replaying.messages { replayed.append(r.sourcePort ?? -1) }
        XCTAssertEqual(replayed, Array(13...20))
        XCTAssertEqual(broadcast.stats.published, 21)
        // After finish, new readers end at once.
        for await _ in broadcast.subscribe().messages { XCTFail("a finished broadcast sends nothing") }
    }
}
