import Foundation
import ICMPProbe
import Testing

// Every test builds its own prober/target namespaces (icmpt-<random>-p/-t) and sends real packets only there.

@Suite("ICMPProbe in network namespaces", .serialized)
struct ICMPProbeTests {
    @Test func ipv4ReplyHasPositiveRTT() async throws {
        try await withTopology { topo in
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            let r = await pinger.ping(Topology.targetV4, deadline: .seconds(2))
            guard case .reply(let rtt, let attempt) = r else { Issue.record("got \(r)"); return }
            #expect(rtt > 0 && rtt < 100_000_000)
            #expect(attempt == 1)
        }
    }

    @Test func ipv6Reply() async throws {
        try await withTopology { topo in
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            let r = await pinger.ping(Topology.targetV6, deadline: .seconds(2))
            guard case .reply(let rtt, let attempt) = r else { Issue.record("got \(r)"); return }
            #expect(rtt > 0 && rtt < 100_000_000)
            #expect(attempt == 1)
        }
    }

    @Test func droppedEchoesTimeOutAtDeadline() async throws {
        try await withTopology { topo in
            try topo.dropEchoRequests()
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            async let a = timed { await pinger.ping(Topology.targetV4, deadline: .seconds(1)) }
            async let b = timed { await pinger.ping(Topology.targetV6, deadline: .seconds(1)) }
            for (r, secs) in await [a, b] {
                #expect(r == .timedOut)
                #expect(secs >= 0.95 && secs < 1.6, "took \(secs) s")
            }
        }
    }

    @Test func noRouteFailsQuickly() async throws {
        try await withTopology { topo in
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            // The prober namespace has no default route, so these are rejected by sendto.
            let (r4, s4) = await timed { await pinger.ping("198.19.200.1", deadline: .seconds(5)) }
            #expect(r4 == .failed("sendto: network is unreachable"))
            #expect(s4 < 0.5)
            let (r6, s6) = await timed { await pinger.ping("fd99::1", deadline: .seconds(5)) }
            guard case .failed(let msg) = r6 else { Issue.record("got \(r6)"); return }
            #expect(msg.hasPrefix("sendto: "))
            #expect(s6 < 0.5)
            // On-link address with no owner: neighbour resolution fails silently; must not outlive the deadline.
            let (r3, s3) = await timed { await pinger.ping("198.18.0.77", deadline: .milliseconds(800)) }
            #expect(r3 == .timedOut || r3 == .failed("sendto: no route to host"))
            #expect(s3 < 1.3)
        }
    }

    @Test func invalidAddressFails() async throws {
        try await withTopology { topo in
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            #expect(await pinger.ping("not-an-ip") == .failed("invalid address \"not-an-ip\""))
            #expect(await pinger.ping("198.18.0.256") == .failed("invalid address \"198.18.0.256\""))
            #expect(await pinger.ping("") == .failed("invalid address \"\""))
        }
    }

    @Test func manyConcurrentProbesResolveCorrectly() async throws {
        try await withTopology { topo in
            // 160 answering addresses (v4 + v6 on the target's lo) and 40 silent ones, all probed at once.
            let up4 = (1...100).map { "198.18.1.\($0)" }
            let up6 = (1...60).map { "fd00:1::\(String($0, radix: 16))" }
            let silent4 = (1...20).map { "198.18.2.\($0)" }              // routed to the target, not owned
            let silent6 = (101...120).map { "fd00:1::\(String($0, radix: 16))" }
            try topo.addTargetAddresses(up4 + up6 + silent6)
            try topo.dropEchoRequests(to: silent6)
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            let all = up4 + up6 + silent4 + silent6
            let results = await withTaskGroup(of: (String, ICMPOutcome).self) { group in
                for a in all.shuffled() {
                    group.addTask { (a, await pinger.ping(a, deadline: .milliseconds(1500))) }
                }
                var out: [String: ICMPOutcome] = [:]
                for await (a, r) in group { out[a] = r }
                return out
            }
            #expect(results.count == all.count)
            for a in up4 + up6 {
                guard case .reply(let rtt, let attempt) = results[a] else {
                    Issue.record("\(a): \(String(describing: results[a]))"); continue
                }
                #expect(rtt > 0 && rtt < 500_000_000)
                #expect(attempt >= 1 && attempt <= 3)
            }
            for a in silent4 + silent6 { #expect(results[a] == .timedOut, "\(a)") }
            #expect(pinger.inFlight == 0)
        }
    }

    @Test func laterEchoAnsweredReportsItsAttemptAndOwnRTT() async throws {
        try await withTopology { topo in
            // numgen inc counts packets hitting the rule from 0: drop exactly the first two v4 and the first v6 echo.
            try topo.nftTarget("""
                table inet icmpt {
                  chain in {
                    type filter hook input priority 0; policy accept;
                    icmp type echo-request numgen inc mod 1000000 < 2 drop
                    icmpv6 type echo-request numgen inc mod 1000000 < 1 drop
                  }
                }
                """)
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            let r4 = await pinger.ping(Topology.targetV4, deadline: .seconds(2))
            let r6 = await pinger.ping(Topology.targetV6, deadline: .seconds(2))
            guard case .reply(let rtt4, let attempt4) = r4 else { Issue.record("v4 got \(r4)"); return }
            guard case .reply(let rtt6, let attempt6) = r6 else { Issue.record("v6 got \(r6)"); return }
            #expect(attempt4 == 3)
            #expect(attempt6 == 2)
            // RTT is measured from the answered echo's own send time, not from the first echo (100/200 ms earlier).
            #expect(rtt4 < 50_000_000, "rtt4 \(rtt4)")
            #expect(rtt6 < 50_000_000, "rtt6 \(rtt6)")
        }
    }

    @Test func foreignRepliesAreIgnored() async throws {
        try await withTopology { topo in
            // Only the target's veth address answers; 198.18.1.9 is owned but silenced.
            try topo.addTargetAddresses(["198.18.1.9"])
            try topo.dropEchoRequests(to: ["198.18.1.9"])
            // A concurrent system ping (other identifier) floods the same target from the same namespace.
            let ping = Process()
            ping.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            ping.arguments = ["--net=/run/netns/\(topo.prober)", "ping", "-q", "-i", "0.002", "-c", "1500", Topology.targetV4]
            ping.standardOutput = FileHandle.nullDevice
            try ping.run()
            defer { if ping.isRunning { ping.terminate() }; ping.waitUntilExit() }
            // Two pingers in one namespace with the SAME identifier: each sees the other's replies (raw sockets
            // get every echo reply), and must reject them (nonce/sequence), and never credit the silent address.
            let a = try topo.makePinger(identifier: 4242)
            let b = try topo.makePinger(identifier: 4242)
            defer { a.close(); b.close() }
            try await Task.sleep(for: .milliseconds(100))
            async let silent = a.ping("198.18.1.9", attempts: 3, deadline: .milliseconds(1200))
            let outcomes = await withTaskGroup(of: ICMPOutcome.self) { group in
                for i in 0..<60 {
                    let p = i % 2 == 0 ? a : b
                    group.addTask { await p.ping(Topology.targetV4, attempts: 1, deadline: .seconds(1)) }
                }
                return await group.reduce(into: [ICMPOutcome]()) { $0.append($1) }
            }
            for r in outcomes {
                guard case .reply(let rtt, let attempt) = r else { Issue.record("got \(r)"); continue }
                #expect(attempt == 1)
                #expect(rtt > 0 && rtt < 200_000_000)
            }
            #expect(await silent == .timedOut)
        }
    }

    @Test func closeResumesAllWaiters() async throws {
        try await withTopology { topo in
            try topo.dropEchoRequests()
            let pinger = try topo.makePinger()
            let (results, secs) = await timed {
                await withTaskGroup(of: ICMPOutcome.self) { group in
                    for _ in 0..<20 {
                        group.addTask { await pinger.ping(Topology.targetV4, deadline: .seconds(10)) }
                    }
                    try? await Task.sleep(for: .milliseconds(300))
                    pinger.close()
                    return await group.reduce(into: [ICMPOutcome]()) { $0.append($1) }
                }
            }
            #expect(results.count == 20)
            #expect(results.allSatisfy { $0 == .failed("pinger closed") })
            #expect(secs < 2)
            #expect(await pinger.ping(Topology.targetV4) == .failed("pinger closed"))
        }
    }

    @Test func cancellationEndsTheProbe() async throws {
        try await withTopology { topo in
            try topo.dropEchoRequests()
            let pinger = try topo.makePinger()
            defer { pinger.close() }
            let task = Task { await pinger.ping(Topology.targetV4, deadline: .seconds(10)) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let (r, secs) = await timed { await task.value }
            #expect(r == .failed("cancelled"))
            #expect(secs < 1)
            #expect(pinger.inFlight == 0)
        }
    }

    /// End to end through the bench binary started with nsenter (skipped if the binary is not built).
    @Test func benchProbeSubcommandPrintsJSON() async throws {
        let bin = try #require(benchBinary(), "icmp-bench must be built next to the tests")
        try await withTopology { topo in
            let out = try run(["nsenter", "--net=/run/netns/\(topo.prober)", bin, "probe", "--deadline-ms", "1000",
                               Topology.targetV4, Topology.targetV6, "198.18.0.99"])
            let lines = out.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            let objs = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
            #expect(objs[0]["result"] as? String == "reply")
            #expect(objs[1]["result"] as? String == "reply")
            #expect((objs[0]["rtt_ns"] as? Int ?? 0) > 0)
            #expect(objs[2]["result"] as? String == "timedOut")
        }
    }
}

/// The icmp-bench binary next to the test bundle (same build directory), if it was built.
func benchBinary() -> String? {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<4 {
        let cand = dir.appendingPathComponent("icmp-bench").path
        if FileManager.default.isExecutableFile(atPath: cand) { return cand }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}
