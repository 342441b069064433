import DetectionSim
@testable import HealthDaemon
import Testing

/// The detection state machine on an injected clock: no sockets, no sleeping.
@Suite struct DetectionSchedulerTests {
    static let names = (1...10).map { "c/node-\($0)" }

    /// Drives one scheduler for `seconds` of simulated time in 10 ms steps; every probe answers
    /// as `answer` says and finishes 1 ms after it starts.
    static func drive(_ s: inout DetectionScheduler, from start: Duration = .zero, seconds: Double,
                      answer: (DetectionScheduler.Probe, Duration) -> Bool = { _, _ in true })
        -> (probes: [DetectionScheduler.Probe], events: [(Duration, DetectionScheduler.Event)])
    {
        var probes: [DetectionScheduler.Probe] = []
        var events: [(Duration, DetectionScheduler.Event)] = []
        var t = start
        while t < start + .seconds(seconds) {
            let due = s.takeDue(now: t)
            probes += due
            for p in due {
                events += s.finished(p, answered: answer(p, t), now: t + .milliseconds(1)).map { (t, $0) }
            }
            t += .milliseconds(10)
        }
        return (probes, events)
    }

    @Test func everyNodeHasExactlyTheConfiguredNumberOfWatchers() {
        let names = (1...50).map { "c/node-\($0)" }
        var watchedBy: [String: Int] = [:]
        for name in names {
            let set = DetectionScheduler.watchSet(local: name, names: names, watchers: 3)
            #expect(set.count == 3)
            #expect(!set.contains(name))
            for w in set { watchedBy[w, default: 0] += 1 }
        }
        #expect(names.allSatisfy { watchedBy[$0] == 3 })
        // Every agent computes the same ring.
        #expect(DetectionScheduler.watchSet(local: "c/node-7", names: names.reversed(), watchers: 3)
            == DetectionScheduler.watchSet(local: "c/node-7", names: names, watchers: 3))
        // Fewer peers than watchers: watch them all.
        #expect(DetectionScheduler.watchSet(local: "a", names: ["a", "b"], watchers: 3) == ["b"])
        #expect(DetectionScheduler.watchSet(local: "a", names: ["a"], watchers: 3) == [])
    }

    @Test func healthyClusterCostsWatchersPerPeriod() {
        var s = DetectionScheduler(localName: "c/node-1")
        s.setPeers(Self.names, now: .zero)
        #expect(s.watched.count == 3)
        let run = Self.drive(&s, seconds: 60)
        #expect(run.events.isEmpty)
        #expect(run.probes.allSatisfy { $0.reason == .watch && s.watched.contains($0.peer) })
        // 3 peers once a second (±1 for where the phases fall at the edges of the minute).
        #expect((177...183).contains(run.probes.count), "\(run.probes.count)")
    }

    @Test func failedWatchIsASuspicionUntilTheAgentsOwnProbeConfirmsIt() throws {
        var s = DetectionScheduler(localName: "c/node-1")
        s.setPeers(Self.names, now: .zero)
        let victim = try #require(s.watched.first)
        let downAt = Duration.seconds(5)
        let run = Self.drive(&s, seconds: 10) { p, t in !(p.peer == victim && t >= downAt) }
        let kinds = run.events.map(\.1)
        #expect(kinds == [.suspect(victim), .down(victim)])
        let suspectedAt = try #require(run.events.first?.0)
        #expect(suspectedAt >= downAt && suspectedAt < downAt + .seconds(1))
        // The confirmation ran at once, the rechecks after that once a second.
        let victimProbes = run.probes.filter { $0.peer == victim && $0.reason != .watch }
        #expect(victimProbes.first?.reason == .confirm)
        #expect(victimProbes.dropFirst().allSatisfy { $0.reason == .recheck })
        #expect((3...6).contains(victimProbes.count - 1), "\(victimProbes)")
        #expect(s.state(of: victim) == .down)
        #expect(s.downPeers == [victim])

        // It answers again: one recovery, then back to plain watching.
        let after = Self.drive(&s, from: .seconds(10), seconds: 5)
        #expect(after.events.map(\.1) == [.recovered(victim)])
        #expect(s.state(of: victim) == .healthy)
        #expect(after.probes.last { $0.peer == victim }?.reason == .watch)
    }

    @Test func aSingleLostBurstIsNotReported() throws {
        var s = DetectionScheduler(localName: "c/node-1")
        s.setPeers(Self.names, now: .zero)
        let victim = try #require(s.watched.first)
        var failedOnce = false
        let run = Self.drive(&s, seconds: 5) { p, _ in
            guard p.peer == victim, !failedOnce else { return true }
            failedOnce = true
            return false
        }
        #expect(run.events.map(\.1) == [.suspect(victim)])
        #expect(s.state(of: victim) == .healthy)
    }

    @Test func heardSuspicionsAreConfirmedDirectlyAndDeduplicated() throws {
        var s = DetectionScheduler(localName: "c/node-1")
        s.setPeers(Self.names, now: .zero)
        let unwatched = try #require(Self.names.dropFirst().first { !s.watched.contains($0) })
        let r1 = s.suspicionHeard(unwatched, now: .seconds(1))
        #expect(r1)
        // Already confirming: a second watcher's report adds nothing.
        let r2 = s.suspicionHeard(unwatched, now: .seconds(1))
        #expect(!r2)
        let due = s.takeDue(now: .seconds(1))
        #expect(due.contains(.init(peer: unwatched, reason: .confirm)))
        // It answers: no report, and more suspicions right after are answered by that probe.
        let r3 = s.finished(.init(peer: unwatched, reason: .confirm), answered: true, now: .seconds(1.01))
        #expect(r3 == [])
        let r4 = s.suspicionHeard(unwatched, now: .seconds(1.2))
        #expect(!r4)
        let r5 = s.suspicionHeard(unwatched, now: .seconds(2))
        #expect(r5)
        // Unknown names (a stale or forged datagram) and the local node are ignored.
        let r6 = s.suspicionHeard("c/node-99", now: .seconds(2))
        #expect(!r6)
        let r7 = s.suspicionHeard("c/node-1", now: .seconds(2))
        #expect(!r7)
        // A failed confirmation of a heard suspicion is this agent's own evidence.
        _ = s.takeDue(now: .seconds(2))
        let r8 = s.finished(.init(peer: unwatched, reason: .confirm), answered: false, now: .seconds(2.3))
        #expect(r8 == [.down(unwatched)])
    }

    @Test func manyDownPeersStretchTheRecheckToTheBudget() {
        let names = (1...201).map { "c/node-\($0)" }
        var s = DetectionScheduler(localName: "c/node-1", config: .init(probeBudget: 15))
        s.setPeers(names, now: .zero)
        for name in names.dropFirst() { s.suspicionHeard(name, now: .zero) }
        for p in s.takeDue(now: .zero) { _ = s.finished(p, answered: false, now: .zero) }
        #expect(s.downPeers.count == 200)
        // 200 down peers, 12 probes/s left after watching 3 a second: each rechecked every ~16.7 s.
        let run = Self.drive(&s, from: .milliseconds(10), seconds: 60) { _, _ in false }
        let rate = Double(run.probes.count) / 60
        #expect(rate <= 15.5, "\(rate) probes/s")
        #expect(rate >= 8, "\(rate) probes/s")
    }

    @Test func membershipChangesKeepStateAndDropVanishedPeers() throws {
        var s = DetectionScheduler(localName: "c/node-1")
        s.setPeers(Self.names, now: .zero)
        let victim = try #require(s.watched.first)
        s.suspicionHeard(victim, now: .zero)
        let probe = try #require(s.takeDue(now: .zero).first { $0.peer == victim })
        _ = s.finished(probe, answered: false, now: .zero)
        s.setPeers(Self.names + ["c/node-11"], now: .seconds(1))
        #expect(s.state(of: victim) == .down)
        s.setPeers(Self.names.filter { $0 != victim }, now: .seconds(2))
        #expect(s.state(of: victim) == nil)
        #expect(s.downPeers.isEmpty)
        #expect(s.takeDue(now: .seconds(10)).allSatisfy { $0.peer != victim })
    }
}

@Suite struct PathStatisticsTests {
    @Test func learntTimeoutFollowsTheRTTWithinBounds() {
        var e = RTTEstimator()
        #expect(e.timeout == .seconds(1))
        for _ in 0..<20 { e.observe(.microseconds(60)) }
        #expect(e.timeout == RTTEstimator.minimumTimeout)
        var slow = RTTEstimator()
        for i in 0..<50 { slow.observe(.milliseconds(i % 2 == 0 ? 25 : 75)) }
        // 50 ms ± 25 ms: the timeout clears the spread by a margin.
        #expect(slow.timeout > .milliseconds(150) && slow.timeout < .milliseconds(500), "\(slow.timeout)")
        var huge = RTTEstimator()
        huge.observe(.seconds(30))
        #expect(huge.timeout == RTTEstimator.maximumTimeout)
    }

    @Test func lossAndJitterFromBursts() {
        var p = PathStatistics()
        p.observe(burst: [100_000, nil, 120_000, nil, 110_000])
        #expect(p.echoes == 5 && p.replies == 3)
        #expect(abs(p.loss - 0.4) < 1e-9)
        #expect(p.minimumRTT == 100_000)
        // |120−100| then |110−120| µs through J += (|D| − J)/16.
        let j1 = 20_000.0 / 16
        #expect(abs(p.jitterNanoseconds - (j1 + (10_000 - j1) / 16)) < 1e-6)
        // 30 % loss over many bursts reads 30 % (the window forgets the start).
        var q = PathStatistics()
        q.observe(burst: [nil, nil, nil, nil, nil])
        for i in 0..<400 { q.observe(burst: (0..<5).map { ($0 + i) % 10 < 3 ? nil : 50_000 }) }
        #expect(abs(q.loss - 0.3) < 0.05, "\(q.loss)")
    }

    @Test func selfMeasureReportsLateTimersAndRates() {
        var m = ProberSelfMeasure()
        for i in 0..<100 {
            let intended = Duration.milliseconds(100 * i)
            m.timerFired(intended: intended, now: intended + (i == 50 ? .milliseconds(40) : .microseconds(50)))
            m.burstSent(now: intended)
            m.burstSent(now: intended)
        }
        let now = Duration.seconds(10)
        #expect(m.delay(quantile: 0.5, now: now) == .microseconds(50))
        #expect(m.delay(quantile: 1, now: now) == .milliseconds(40))
        #expect(abs(m.burstRate(now: now) - 20 * 10 / 11) < 1, "\(m.burstRate(now: now))")
        // Samples older than a minute are forgotten.
        #expect(m.delay(quantile: 1, now: .seconds(200)) == .zero)
    }
}

@Suite struct SimulationTests {
    @Test func blackHoleAtOneHundredNodesIsConfirmedByEveryAgentWithinFiveSeconds() {
        let r = Scenarios.blackhole(DetectionSimulation(.init(nodes: 100)))
        #expect(r.detected == r.observers, "\(r)")
        #expect(r.max <= 5, "\(r)")
        #expect(r.fastBurstsPerSecond + r.sweepProbesPerSecond <= 20, "\(r)")
    }

    @Test func lossAndDelayRaiseNoFalseReports() {
        let r = Scenarios.loss(DetectionSimulation(.init(nodes: 50)), seconds: 300)
        #expect(r.falseDowns == 0)
    }

    @Test func aFlappingNodeIsReportedEveryTime() {
        let r = Scenarios.flap(DetectionSimulation(.init(nodes: 30)), seconds: 60)
        #expect(r.outages >= 10)
        #expect(r.minReported == r.outages, "min \(r.minReported) of \(r.outages)")
    }
}
