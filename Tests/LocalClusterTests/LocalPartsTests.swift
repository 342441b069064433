import Agent
import ConnTest
import ConnTestLocal
import HealthAPI
import XCTest

/// The pure parts of the local cluster's run machinery (no namespaces): service rules, argv, flags.
final class LocalPartsTests: XCTestCase {
    func testRulesetText() {
        let text = ServiceProxy.ruleset([.init(daddr: "198.18.0.11", port: 31414, backend: "198.19.2.10", backendPort: 8080, masquerade: true)])
        XCTAssertTrue(text.hasPrefix("table ip nethealth_k8s {"))
        XCTAssertTrue(text.contains("ip daddr 198.18.0.11 tcp dport 31414 meta mark set 0x4e480001 dnat to 198.19.2.10:8080"))
        XCTAssertTrue(text.contains("type nat hook output priority -100"))
        XCTAssertTrue(text.contains("meta mark 0x4e480001 masquerade"))
    }

    func testProbeArgvAndNames() {
        XCTAssertEqual(LocalProbeCommand.adapt(["ash", "-c", "! curl x"]), ["/bin/sh", "-c", "! curl x"])
        XCTAssertEqual(LocalProbeCommand.adapt(["/bin/ash", "-c", "true"]), ["/bin/sh", "-c", "true"])
        XCTAssertEqual(LocalProbeCommand.adapt(["curl", "-sS"]), ["curl", "-sS"])
        let lxc = PodNetwork.hostInterface(pod: "pod-to-c-multi-node-hostport-proxy-to-proxy")
        XCTAssertLessThanOrEqual(lxc.utf8.count, 15)
        XCTAssertEqual(lxc, PodNetwork.hostInterface(pod: "pod-to-c-multi-node-hostport-proxy-to-proxy"), "stable")
        XCTAssertTrue(ResolvConf.clusterFirst(nameserver: "198.19.1.3").contains("search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5"))
    }

    func testTimeoutParsing() {
        XCTAssertEqual(GoDuration.parse("60s"), .seconds(60))
        XCTAssertEqual(GoDuration.parse("2m"), .seconds(120))
        XCTAssertEqual(GoDuration.parse("1m30s"), .seconds(90))
        XCTAssertEqual(GoDuration.parse("90"), .seconds(90))
        XCTAssertEqual(GoDuration.parse("500ms"), .milliseconds(500))
        for bad in ["", "abc", "0s", "5x", "1m30", "-1"] { XCTAssertNil(GoDuration.parse(bad), bad) }
        // Found by bench/fuzz.sh: a value past Go's ~292-year limit trapped converting to Int64.
        for huge in ["1m15s" + String(repeating: "1", count: 40) + "s", "1e300", "9999999999999h"] {
            XCTAssertNil(GoDuration.parse(huge), huge)
        }
    }

    /// Only 198.18.0.0/15 minus nodes (/24), ClusterIPs (/20) and pods (198.19/16) may be simulated.
    func testExternalHostAddressRange() {
        for ok in ["198.18.1.1", "198.18.127.255", "198.18.144.0", "198.18.200.1", "198.18.255.254"] {
            XCTAssertNoThrow(try ExternalHostAddress.validate(ok), ok)
        }
        for bad in ["1.1.1.1", "198.17.255.255", "198.18.0.1", "198.18.0.250", "198.18.128.0", "198.18.143.255",
                    "198.19.0.1", "198.20.0.1", "fd00::1", "::ffff:198.18.200.1"] {
            XCTAssertThrowsError(try ExternalHostAddress.validate(bad), bad)
        }
        let layout = StateLayout(cluster: "c1", root: "/tmp/x")
        XCTAssertEqual(layout.externalNamespace, "nh-c1-ext")
        XCTAssertTrue(layout.ownsNamespace("nh-c1-ext"))
        XCTAssertFalse(layout.ownsNamespace("nh-c2-ext"))
        XCTAssertFalse(layout.ownsNamespace("nh-c1-ext2"))
    }
}

/// The one process runner: bounded, and never held up by what the tool leaves running.
final class CommandRunnerTests: XCTestCase {
    func testGrandchildHoldingStdoutDoesNotHoldTheCaller() throws {
        let started = Date()
        // The background sleep inherits stdout; with a pipe, reading to EOF would wait 60 s.
        let r = try Command.run(["sh", "-c", "sleep 60 & echo started; echo warn >&2"], timeout: 30)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "returned when the tool exited, not when its child did")
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "started\n")
        XCTAssertEqual(r.stderr, "warn\n")
        _ = try? Command.run(["pkill", "-f", "^sleep 60$"])
    }

    func testTimeoutStopsTheToolAndInputReachesIt() throws {
        let slow = try Command.run(["sh", "-c", "echo before; sleep 30"], timeout: 1)
        XCTAssertNotEqual(slow.status, 0, "terminated at the bound")
        XCTAssertEqual(slow.stdout, "before\n", "output up to the bound is kept")
        let echoed = try Command.run(["cat"], input: String(repeating: "x", count: 200_000))
        XCTAssertEqual(echoed.stdout.count, 200_000, "large input and output pass whole")
    }
}
