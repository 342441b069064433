import Foundation
import HealthAPI
import HealthHistory
import Logging

// Synthesises probe history with an injected clock (upstream's probe rate for the target count,
// both protocols, 2 % failures), measures the probe-path cost, the batch write cost, the file
// growth, and `history` query times. Prints one "name value unit" line per number.

func interval(ipCount: Int, ratio: Double = 0.5) -> Double { (10 + ratio * 100) * log(1 + Double(ipCount)) }

struct Rng {
    var state: UInt64 = 7
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
}

func targets(_ n: Int) -> [HistoryTarget] {
    (0..<n).flatMap { i in
        ["icmp", "http"].map { HistoryTarget(node: "bench/node-\(i / 2 + 1)", ip: "198.18.\(i / 250).\(i % 250 + 1)",
                                             path: i % 2 == 0 ? "host" : "endpoint", family: "ipv4", protocol: $0) }
    }
}

final class Clock: @unchecked Sendable {  // advanced by the one task that drives the simulation
    var now: Date
    init(_ start: Date) { now = start }
}

/// Feeds `days` of probes for `ipCount` addresses; flushes every simulated second of probes and
/// maintains every simulated minute, as the agent does. Returns (record µs/probe, write µs/sample).
func simulate(path: String, ipCount: Int, days: Double, start: Date) async throws -> (HistoryStore, Double, Double, Date) {
    let store = try HistoryStore(path: path)
    let clock = Clock(start)
    let writer = HistoryWriter(store: store, now: { [clock] in clock.now }, logger: Logger(label: "bench"))
    let all = targets(ipCount)
    let every = interval(ipCount: ipCount)
    let perSecond = Double(all.count) / every  // probe results per simulated second
    var rng = Rng()
    var recordTime = Duration.zero, writeTime = Duration.zero
    var results = 0, samples = 0
    var carry = 0.0, next = 0, lastMaintenance = start
    let end = start.addingTimeInterval(days * 86400)
    let batchSeconds = 10.0
    while clock.now < end {
        carry += perSecond * batchSeconds
        var batch: [ProbeResult] = []
        while carry >= 1 {
            carry -= 1
            let t = all[next % all.count]
            next += 1
            let failed = rng.next() % 50 == 0
            batch.append(ProbeResult(target: t, time: clock.now, rttNanoseconds: failed ? nil : Int64(150_000 + rng.next() % 2_000_000),
                                     error: failed ? "Connection timed out" : nil, unanswered: failed ? 2 : 0))
        }
        let r0 = ContinuousClock.now
        for b in batch { writer.record(b) }
        recordTime += ContinuousClock.now - r0
        results += batch.count
        samples += batch.reduce(0) { $0 + $1.samples.count }
        let w0 = ContinuousClock.now
        await writer.flush()
        writeTime += ContinuousClock.now - w0
        clock.now = clock.now.addingTimeInterval(batchSeconds)
        if clock.now.timeIntervalSince(lastMaintenance) >= 60 {
            await writer.maintain()
            lastMaintenance = clock.now
        }
    }
    func us(_ d: Duration, _ n: Int) -> Double { Double(d.components.seconds) * 1e6 / Double(max(1, n)) + Double(d.components.attoseconds) / 1e12 / Double(max(1, n)) }
    return (store, us(recordTime, results), us(writeTime, samples), clock.now)
}

func fileBytes(_ path: String) -> Int64 {
    ["", "-wal"].reduce(0) { total, ext in
        total + ((try? FileManager.default.attributesOfItem(atPath: path + ext)[.size] as? Int64) ?? 0)
    }
}

let dir = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory() + "history-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let start = Date(timeIntervalSince1970: 1_800_000_000)

// 1. One node-day at 1000 targets.
let (dayStore, recordUS, writeUS, _) = try await simulate(path: dir + "/day.db", ipCount: 1000, days: 1, start: start)
print(String(format: "record_per_probe_us %.2f (probe path: queue only)", recordUS))
print(String(format: "write_per_sample_us %.2f (batched, off the probe path)", writeUS))
print(String(format: "db_growth_node_day_1000_targets_mib %.1f", Double(fileBytes(dayStore.path)) / 1048576))
print(String(format: "db_used_after_day_mib %.1f", Double(try await dayStore.usedBytes()) / 1048576))

// 2. Seven days of 100 targets, then `history` queries (best of 5).
let (weekStore, _, _, weekEnd) = try await simulate(path: dir + "/week.db", ipCount: 100, days: 7, start: start)
print(String(format: "db_7d_100_targets_mib %.1f", Double(fileBytes(weekStore.path)) / 1048576))
for (label, query) in [("history_7d_default_step_ms", HistoryQuery(since: .seconds(7 * 86400))),
                       ("history_7d_step_1h_ms", HistoryQuery(since: .seconds(7 * 86400), step: .seconds(3600))),
                       ("history_7d_step_1m_ms", HistoryQuery(since: .seconds(7 * 86400), step: .seconds(60))),
                       ("history_24h_step_1h_ms", HistoryQuery(since: .seconds(86400), step: .seconds(3600))),
                       ("history_1h_default_step_ms", HistoryQuery(since: .seconds(3600)))] {
    var best = Double.infinity, series = 0
    for _ in 0..<5 {
        let t0 = ContinuousClock.now
        let r = try await weekStore.history(query, source: "bench/node-0", now: weekEnd)
        let d = ContinuousClock.now - t0
        best = min(best, Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        series = r.series.count
    }
    print(String(format: "%@ %.1f (%d series)", label, best, series))
}
try? FileManager.default.removeItem(atPath: dir)
