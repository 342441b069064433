import XCTest
import Foundation
@testable import ConnTest

/// Real commands through LocalCommandExec; timeScale 0.05 turns the 10 s default period into 0.5 s.
final class ProbeRunnerTests: XCTestCase {
    let scale = 0.05
    let exec = LocalCommandExec().exec

    /// Polls until `condition` holds or `seconds` pass; returns the last status.
    private func poll(_ runner: ProbeRunner, within seconds: Double, until condition: (ProbeStatus) -> Bool) async -> ProbeStatus {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(seconds * 1000))
        var status = await runner.status
        while !condition(status) && clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
            status = await runner.status
        }
        return status
    }

    private func start(_ runner: ProbeRunner) -> Task<Void, Never> { Task { await runner.run() } }

    func testPassingProbesBecomeReadyAtOnceAndSettleAfterLivenessThreshold() async {
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["/bin/true"]), liveness: ProbeSpec(command: ["sh", "-c", "true"]),
                                 timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let ready = await poll(runner, within: 5) { $0.ready }
        XCTAssertTrue(ready.ready)
        XCTAssertLessThan(ready.timeToFirstReady ?? 99, 0.4, "delay 0: first probe runs immediately")
        XCTAssertFalse(ready.settled && ready.livenessChecksSinceStart < 3, "a distinct liveness probe must be observed first")
        // Liveness needs failureThreshold (3) observations: t = 0, 0.5, 1.0.
        let settled = await poll(runner, within: 5) { $0.settled }
        XCTAssertTrue(settled.settled)
        XCTAssertGreaterThanOrEqual(settled.livenessChecksSinceStart, 3)
        XCTAssertEqual(settled.restartCount, 0)
        XCTAssertNil(settled.lastFailure)
    }

    func testLivenessRepeatingReadinessSettlesAtReady() async {
        // The generated checks probe the same command for readiness and liveness (a deny probe takes
        // its full 5 s connect timeout), so waiting for 3 more liveness runs would only add time.
        let probe = ProbeSpec(command: ["sh", "-c", "sleep 0.3"], timeoutSeconds: 2)
        let runner = ProbeRunner(readiness: probe, liveness: probe, timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 5) { $0.settled }
        XCTAssertTrue(s.ready)
        XCTAssertTrue(s.settled)
        XCTAssertLessThan(s.livenessChecksSinceStart, 3, "settled at Ready, not after 3 liveness runs")
    }

    func testInitialDelayIsScaled() async {
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["true"], initialDelaySeconds: 10), liveness: nil,
                                 timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 5) { $0.ready }
        let t = s.timeToFirstReady ?? 0
        XCTAssertGreaterThanOrEqual(t, 0.49)
        XCTAssertLessThan(t, 1.5)
        XCTAssertEqual(s.readinessProbesRun, 1)
    }

    func testFailingReadinessReachesThresholdAndRecordsOutput() async {
        let spec = ProbeSpec(command: ["sh", "-c", "echo 'curl: (28) Connection timed out' >&2; exit 28"], failureThreshold: 3)
        let runner = ProbeRunner(container: "c", readiness: spec, liveness: nil, timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let early = await poll(runner, within: 0.3) { $0.readinessProbesRun >= 2 }
        XCTAssertFalse(early.readinessThresholdReached, "2 failures < failureThreshold 3")
        let s = await poll(runner, within: 5) { $0.readinessThresholdReached }
        XCTAssertTrue(s.readinessThresholdReached)
        XCTAssertFalse(s.ready)
        XCTAssertTrue(s.settled)
        XCTAssertEqual(s.readinessProbesRun, 3)
        XCTAssertEqual(s.lastFailure, "c readiness: exit 28: curl: (28) Connection timed out")
    }

    func testLivenessFailureRestartsAndResetsReadiness() async {
        let restarts = Counter()
        // Readiness waits 1 s (scaled) after each start, so NotReady after a restart is observable.
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["true"], initialDelaySeconds: 20),
                                 liveness: ProbeSpec(command: ["false"], initialDelaySeconds: 0, failureThreshold: 2),
                                 timeScale: scale, exec: exec, onRestart: { n in restarts.set(n) })
        let task = start(runner)
        defer { task.cancel() }
        // Liveness fails at t=0 and t=0.5 -> restart at ~0.5 s, before readiness ever ran.
        let first = await poll(runner, within: 5) { $0.restartCount >= 1 }
        XCTAssertEqual(first.restartCount, 1)
        XCTAssertFalse(first.ready)
        XCTAssertNil(first.timeToFirstReady)
        XCTAssertEqual(first.lastFailure, "liveness: exit 1")
        XCTAssertTrue(first.settled, "a restart settles the check")
        let later = await poll(runner, within: 15) { $0.restartCount >= 3 }
        XCTAssertGreaterThanOrEqual(later.restartCount, 3, "restarts keep climbing while liveness fails")
        XCTAssertGreaterThanOrEqual(restarts.value, 3)
    }

    func testRestartResetsReadyContainer() async throws {
        // Liveness passes twice, fails once, then passes again; readiness passes. Ready, one restart, Ready again.
        let dir = try TemporaryDirectory()
        let counter = dir.path + "/n"
        let script = "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $n -ne 3 ]"
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["true"], initialDelaySeconds: 0),
                                 liveness: ProbeSpec(command: ["sh", "-c", script], failureThreshold: 1),
                                 timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let ready = await poll(runner, within: 5) { $0.ready }
        XCTAssertTrue(ready.ready)
        let restarted = await poll(runner, within: 5) { $0.restartCount >= 1 }
        XCTAssertEqual(restarted.restartCount, 1)
        XCTAssertNotNil(restarted.timeToFirstReady, "first Ready time survives the restart")
        let again = await poll(runner, within: 5) { $0.ready }
        XCTAssertTrue(again.ready, "Ready again once the restarted container passes its probes")
        XCTAssertEqual(again.restartCount, 1, "a passing liveness probe does not restart again")
    }

    func testCrashLoopBackOffDoublesUpToFiveMinutes() {
        XCTAssertEqual((1...7).map { ProbeRunner.crashLoopBackOff(restarts: $0) }, [10, 20, 40, 80, 160, 300, 300])
    }

    func testExecTimeoutCountsAsFailureAndIsNotScaled() async {
        let clock = ContinuousClock()
        let began = clock.now
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["sleep", "5"], timeoutSeconds: 1, failureThreshold: 1),
                                 liveness: nil, timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 4) { $0.readinessThresholdReached }
        let took = clock.now - began
        XCTAssertTrue(s.readinessThresholdReached)
        XCTAssertEqual(s.lastFailure?.hasPrefix("readiness: timed out"), true, s.lastFailure ?? "nil")
        XCTAssertGreaterThanOrEqual(took, .milliseconds(950), "timeoutSeconds is real time, not scaled")
        XCTAssertLessThan(took, .seconds(3), "the sleep was killed at the timeout")
    }

    func testFlappingProbeNeedsConsecutiveSuccesses() async throws {
        // Alternates fail, succeed, fail, …: successThreshold 2 is never met, failureThreshold 2 never either.
        let dir = try TemporaryDirectory()
        let counter = dir.path + "/n"
        let script = "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $((n % 2)) -eq 0 ]"
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["sh", "-c", script], successThreshold: 2, failureThreshold: 2),
                                 liveness: nil, timeScale: 0.02, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 5) { $0.readinessProbesRun >= 6 }
        XCTAssertGreaterThanOrEqual(s.readinessProbesRun, 6)
        XCTAssertFalse(s.ready)
        XCTAssertNil(s.timeToFirstReady)
        XCTAssertFalse(s.readinessThresholdReached)
        XCTAssertFalse(s.settled)
    }

    func testReadyAfterTwoFailuresTakesTwoPeriods() async throws {
        let dir = try TemporaryDirectory()
        let counter = dir.path + "/n"
        let script = "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $n -ge 3 ]"
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["sh", "-c", script]), liveness: nil, timeScale: scale, exec: exec)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 5) { $0.ready }
        XCTAssertTrue(s.ready)
        XCTAssertEqual(s.readinessProbesRun, 3)
        XCTAssertFalse(s.readinessThresholdReached, "2 failures < failureThreshold 3")
        let t = s.timeToFirstReady ?? 0
        XCTAssertGreaterThanOrEqual(t, 0.98)
        XCTAssertLessThan(t, 2.0)
    }

    func testExecIgnoringItsTimeoutIsStillBounded() async {
        // The injected exec runs a real 30 s sleep and ignores the 1 s timeout it is given.
        let stubborn: ProbeExec = { _, _ in await LocalCommandExec().run(["sleep", "30"], timeout: .seconds(60)) }
        let clock = ContinuousClock()
        let began = clock.now
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["x"], timeoutSeconds: 1, failureThreshold: 1), liveness: nil,
                                 timeScale: scale, exec: stubborn)
        let task = start(runner)
        defer { task.cancel() }
        let s = await poll(runner, within: 5) { $0.readinessThresholdReached }
        XCTAssertTrue(s.readinessThresholdReached)
        XCTAssertEqual(s.lastFailure?.contains("timed out"), true)
        XCTAssertLessThan(clock.now - began, .seconds(4))
    }

    func testCancellationStopsPromptlyMidExec() async {
        let runner = ProbeRunner(readiness: ProbeSpec(command: ["sleep", "30"], timeoutSeconds: 60), liveness: nil,
                                 timeScale: scale, exec: exec)
        let task = start(runner)
        try? await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        let began = clock.now
        task.cancel()
        await task.value
        XCTAssertLessThan(clock.now - began, .seconds(2))
        let s = await runner.status
        XCTAssertEqual(s.readinessProbesRun, 0, "a cancelled exec is not recorded as a failure")
    }

    func testNoProbesMeansReadyImmediately() async {
        let runner = ProbeRunner(readiness: nil, liveness: nil, exec: exec)
        await runner.run()
        let s = await runner.status
        XCTAssertTrue(s.ready)
        XCTAssertTrue(s.settled)
    }

    func testInvalidTimeScaleFallsBackToRealTime() async {
        let runner = ProbeRunner(readiness: nil, liveness: nil, timeScale: 0, exec: exec)
        XCTAssertEqual(runner.timeScale, 1)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func set(_ v: Int) { lock.lock(); n = max(n, v); lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "probe-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

final class LocalCommandExecTests: XCTestCase {
    func testTimeoutKillsGrandchildren() async throws {
        let marker = "sleep 7.\(Int.random(in: 100...999))"
        let r = await LocalCommandExec().run(["sh", "-c", "\(marker) & wait"], timeout: .milliseconds(300))
        XCTAssertTrue(r.timedOut)
        XCTAssertFalse(r.succeeded)
        try await Task.sleep(for: .milliseconds(200))
        let check = await LocalCommandExec().run(["sh", "-c", "ps -eo args | grep -v grep | grep -c '^\(marker)$'"], timeout: .seconds(5))
        XCTAssertEqual(check.output, "0", "the backgrounded sleep died with its process group")
    }

    func testOutputAndExitCode() async {
        let r = await LocalCommandExec().run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout: .seconds(5))
        XCTAssertEqual(r.exitCode, 3)
        XCTAssertEqual(r.output, "out\nerr")
        let missing = await LocalCommandExec().run(["no-such-binary-xyz"], timeout: .seconds(5))
        XCTAssertEqual(missing.exitCode, 127)
    }
}
