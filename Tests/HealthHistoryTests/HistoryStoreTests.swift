import Foundation
import GRDB
import HealthAPI
@testable import HealthHistory
import XCTest

/// The store on real SQLite files in a temporary directory, with an injected clock (no sleeping).
final class HistoryStoreTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "history-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // a whole hour
    static func target(_ node: String = "c/node-2", ip: String = "198.18.0.12", proto: String = "icmp") -> HistoryTarget {
        HistoryTarget(node: node, ip: ip, path: "host", family: "ipv4", protocol: proto)
    }

    /// Deterministic pseudo-random RTTs (0.1-5 ms) and a 5 % failure rate.
    struct Generator {
        var state: UInt64 = 42
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func sample(_ target: HistoryTarget, at time: Date) -> ProbeSample {
            let failed = next() % 20 == 0
            return ProbeSample(target: target, time: time, rttNanoseconds: failed ? nil : Int64(100_000 + next() % 4_900_000),
                               error: failed ? "Connection timed out" : nil)
        }
    }

    /// Reference nearest-rank quantile, written independently of the store's.
    func nearestRank(_ values: [Int64], _ q: Double) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
    }

    func expectedWindow(_ samples: [ProbeSample]) -> (count: Int, failures: Int, p50: Int64?, p90: Int64?, p99: Int64?, min: Int64?, max: Int64?) {
        let ok = samples.compactMap(\.rttNanoseconds)
        return (samples.count, samples.count - ok.count, nearestRank(ok, 0.5), nearestRank(ok, 0.9), nearestRank(ok, 0.99), ok.min(), ok.max())
    }

    func testRollupsAgreeWithTheRawSamplesTheyCameFrom() async throws {
        let retention = HistoryRetention(raw: .seconds(3600), minutes: .seconds(7 * 86400), hours: .seconds(90 * 86400))
        let store = try HistoryStore(path: dir + "/h.db", retention: retention)
        var gen = Generator()
        let targets = [Self.target(), Self.target(proto: "http"), Self.target("c/node-3", ip: "198.18.0.13")]
        // Three hours, a sample every 7 s per target.
        var written: [ProbeSample] = []
        for second in stride(from: 0, to: 3 * 3600, by: 7) {
            for t in targets { written.append(gen.sample(t, at: Self.t0.addingTimeInterval(Double(second)))) }
        }
        for chunk in stride(from: 0, to: written.count, by: 500) {
            try await store.append(Array(written[chunk..<min(chunk + 500, written.count)]))
        }
        let end = Self.t0.addingTimeInterval(3 * 3600)
        try await store.maintain(now: end)
        // The raw window is 1 h: the first two hours now exist only as rollups.
        let rawLeft = try await store.rawSamples(from: 0, to: .max, targets: [1, 2, 3]).values.flatMap { $0 }
        XCTAssertFalse(rawLeft.isEmpty)
        XCTAssertGreaterThanOrEqual(rawLeft.map(\.t).min() ?? 0, HistoryStore.milliseconds(end) - 3_600_000)

        // Minute windows over all three hours: minute rollups, which must match the raw samples.
        let minutes = try await store.history(HistoryQuery(since: .seconds(3 * 3600), step: .seconds(60)), source: "c/node-1", now: end)
        XCTAssertEqual(minutes.series.count, 3)
        for series in minutes.series {
            let mine = written.filter { $0.target == series.target }
            var checked = 0
            for window in series.windows where window.samples > 0 {
                guard let start = ISO8601DateFormatter().date(from: window.start) else { return XCTFail(window.start) }
                let expected = expectedWindow(mine.filter { $0.time >= start && $0.time < start.addingTimeInterval(60) })
                XCTAssertEqual(window.samples, expected.count, window.start)
                XCTAssertEqual(window.failures, expected.failures, window.start)
                XCTAssertEqual(window.p50, expected.p50, window.start)
                XCTAssertEqual(window.p90, expected.p90, window.start)
                XCTAssertEqual(window.p99, expected.p99, window.start)
                XCTAssertEqual(window.min, expected.min, window.start)
                XCTAssertEqual(window.max, expected.max, window.start)
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 179, series.target.protocol)  // every minute of 3 h (the last may be empty)
        }
        // Hour windows: hour rollups for the first two hours, exact.
        let hours = try await store.history(HistoryQuery(since: .seconds(3 * 3600), step: .seconds(3600)), source: "c/node-1", now: end)
        for series in hours.series {
            let mine = written.filter { $0.target == series.target }
            for (i, window) in series.windows.prefix(3).enumerated() {
                let start = Self.t0.addingTimeInterval(Double(i) * 3600)
                XCTAssertEqual(window.start, RFC3339.string(start))
                let expected = expectedWindow(mine.filter { $0.time >= start && $0.time < start.addingTimeInterval(3600) })
                XCTAssertEqual(window.samples, expected.count)
                XCTAssertEqual(window.failures, expected.failures)
                XCTAssertEqual(window.p50, expected.p50)
                XCTAssertEqual(window.p99, expected.p99)
            }
        }
        // Past the minute retention only hour rollups remain.
        let later = end.addingTimeInterval(8 * 86400)
        try await store.maintain(now: later)
        let old = try await store.history(HistoryQuery(since: .seconds(9 * 86400), step: .seconds(86400)), source: "", now: later)
        XCTAssertEqual(old.series.first?.windows.reduce(0) { $0 + $1.samples }, written.count / 3)
        let goneMinutes = try await store.rollups(.minute, from: 0, to: .max, targets: [1, 2, 3])
        XCTAssertTrue(goneMinutes.isEmpty)
    }

    func testRawQueriesBeyondTheRawWindowNeedWholeMinuteSteps() async throws {
        let store = try HistoryStore(path: dir + "/h.db")
        try await store.append([ProbeSample(target: Self.target(), time: Self.t0, rttNanoseconds: 1000)])
        do {
            _ = try await store.history(HistoryQuery(since: .seconds(2 * 86400), step: .seconds(90)), source: "", now: Self.t0)
            XCTFail("expected an error")
        } catch let error as HistoryError {
            XCTAssertEqual(error.kind, .badRequest)
            XCTAssertTrue(error.description.contains("--step 90s is not whole minutes"), error.description)
        }
        do {
            _ = try await store.history(HistoryQuery(node: "node-9"), source: "", now: Self.t0)
            XCTFail("expected an error")
        } catch let error as HistoryError {
            XCTAssertEqual(error.kind, .notFound)
            XCTAssertEqual(error.description, "unknown node 'node-9': the history has c/node-2")
        }
        let byShortName = try await store.history(HistoryQuery(node: "node-2"), source: "", now: Self.t0)
        XCTAssertEqual(byShortName.series.map(\.target.node), ["c/node-2"])
        XCTAssertThrowsError(try HistoryQuery(parameters: ["since": "yesterday"])) {
            XCTAssertEqual("\($0)", "invalid --since 'yesterday': use a duration such as 30s, 15m, 6h or 7d")
        }
        XCTAssertThrowsError(try HistoryQuery(parameters: ["path": "pod"])) {
            XCTAssertEqual("\($0)", "invalid --path 'pod': use host or endpoint")
        }
        XCTAssertThrowsError(try HistoryQuery(parameters: ["since": "7d", "step": "1s"])) {
            XCTAssertTrue("\($0)".contains("more than 20000 windows"), "\($0)")
        }
        XCTAssertEqual(try HistoryQuery(parameters: ["since": "7d"]).effectiveStep, .seconds(86400))
    }

    func testSizeBoundIsEnforcedAndKeepsTheNewest() async throws {
        let store = try HistoryStore(path: dir + "/h.db", retention: HistoryRetention(maxBytes: 1 << 20))
        var gen = Generator()
        let target = Self.target()
        for batch in 0..<40 {
            let samples = (0..<2000).map { gen.sample(target, at: Self.t0.addingTimeInterval(Double(batch * 2000 + $0) / 10)) }
            try await store.append(samples)
        }
        let end = Self.t0.addingTimeInterval(8000)
        let before = try await store.usedBytes()
        XCTAssertGreaterThan(before, 1 << 20)
        try await store.maintain(now: end)
        let after = try await store.usedBytes()
        XCTAssertLessThanOrEqual(after, 1 << 20)
        let file = try FileManager.default.attributesOfItem(atPath: dir + "/h.db")[.size] as? Int64 ?? 0
        XCTAssertLessThanOrEqual(file, Int64(1 << 20) + 64 * 4096, "free pages are given back")
        let newest = try await store.rawSamples(from: HistoryStore.milliseconds(end) - 60_000, to: .max, targets: [1])
        XCTAssertEqual(newest[1]?.count, 600, "the last minute survives")
    }

    func testCorruptAndForeignFilesAreSetAsideNotOverwritten() async throws {
        let garbage = Data("this is not a database, but someone's notes\n".utf8)
        let path = dir + "/h.db"
        try garbage.write(to: URL(fileURLWithPath: path))
        let store = try HistoryStore(path: path)
        let aside = try XCTUnwrap(store.setAside)
        XCTAssertEqual(aside.reason, "not an SQLite database")
        XCTAssertTrue(aside.path.hasPrefix(path + ".corrupt-"), aside.path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: aside.path)), garbage)
        try await store.append([ProbeSample(target: Self.target(), time: Self.t0, rttNanoseconds: 5)])

        // Someone else's SQLite database.
        let foreignPath = dir + "/other.db"
        let other = try DatabaseQueue(path: foreignPath)
        try await other.write { db in try db.execute(sql: "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('x')") }
        try other.close()
        let reopened = try HistoryStore(path: foreignPath)
        let foreign = try XCTUnwrap(reopened.setAside)
        XCTAssertTrue(foreign.reason.hasPrefix("not a nethealth database of this kind"), foreign.reason)
        let moved = try DatabaseQueue(path: foreign.path)
        let name = try await moved.read { db in try String.fetchOne(db, sql: "SELECT name FROM contacts") }
        XCTAssertEqual(name, "x")

        // Our own file is reopened as it is.
        let again = try HistoryStore(path: path)
        XCTAssertNil(again.setAside)
        let kept = try await again.rawSamples(from: 0, to: .max, targets: [1])
        XCTAssertEqual(kept[1]?.count, 1)
    }

    func testADirectoryIsNotADatabase() {
        XCTAssertThrowsError(try HistoryStore(path: dir)) {
            XCTAssertEqual("\($0)", "history database '\(dir)' is a directory: give a file path")
        }
        XCTAssertThrowsError(try HistoryStore(path: dir + "/x.db", retention: HistoryRetention(raw: .seconds(60))))
    }

    func testWriterQueuesResultsAndEchoLossCounts() async throws {
        let store = try HistoryStore(path: dir + "/h.db")
        let writer = HistoryWriter(store: store, now: { Self.t0 }, logger: .init(label: "test"))
        let t = Self.target()
        // Replied to on the third echo: two lost echoes, then the RTT.
        writer.record(ProbeResult(target: t, time: Self.t0, rttNanoseconds: 2_000_000, error: nil, unanswered: 2))
        writer.record(ProbeResult(target: t, time: Self.t0, rttNanoseconds: nil, error: "Connection timed out", unanswered: 2))
        let nothingYet = try await store.rawSamples(from: 0, to: .max, targets: [1])
        XCTAssertTrue(nothingYet.isEmpty, "record must not write on the probe path")
        await writer.flush()
        let r = try await store.history(HistoryQuery(since: .seconds(60), step: .seconds(60)), source: "", now: Self.t0.addingTimeInterval(1))
        let window = try XCTUnwrap(r.series.first?.windows.last)
        XCTAssertEqual(window.samples, 6)
        XCTAssertEqual(window.failures, 5)
        XCTAssertEqual(window.p50, 2_000_000)
    }
}
