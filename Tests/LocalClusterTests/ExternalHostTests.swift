import Agent
import ConnTest
import ConnTestLocal
import Foundation
import XCTest

/// `conntest run --external-ip`: the external checks against a simulated external host — a real
/// namespace, real TLS (openssl s_server, a throwaway CA in the pods' trust stores), real curl.
final class ExternalHostTests: XCTestCase {
    private static let externalChecks = ["pod-to-external-1111", "pod-to-external-fqdn-allow-google-cnp"]

    private func conntest(_ fixture: ClusterFixture, _ args: [String]) throws -> Command.Result {
        try fixture.conntestRun(["-o", "json", "--timeout", "60s"] + args, timeout: 90)
    }

    /// The external host and everything it put in the cluster is gone; the cluster stays.
    private func assertExternalHostGone(_ fixture: ClusterFixture, ip: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let layout = fixture.layout
        XCTAssertFalse(Netns.exists(layout.externalNamespace), "external namespace", file: file, line: line)
        XCTAssertEqual(Netns.list().filter { $0.hasPrefix("nh-\(fixture.name)-kpod-cilium-test.") }, [], "pod namespaces",
                       file: file, line: line)
        XCTAssertThrowsError(try fixture.kubectl(["get", "configmap", "-n", "kube-system", "nethealth-simulated-internet"]),
                             "the simulated internet is withdrawn", file: file, line: line)
        let node = layout.nodeNamespace("node-1")
        XCTAssertTrue(Netns.exists(node), "the cluster stays up", file: file, line: line)
        let routes = try Netns.exec(node, ["ip", "-4", "route"]).stdout
        XCTAssertFalse(routes.contains(ip) || routes.contains(ExternalHost.linkAddress), routes, file: file, line: line)
        let bridgePorts = try Netns.exec(layout.bridgeNamespace, ["ip", "-br", "link"]).stdout
        XCTAssertFalse(bridgePorts.contains("ext0"), bridgePorts, file: file, line: line)
        let netnsDirs = (try? FileManager.default.contentsOfDirectory(atPath: ResolvConf.root)) ?? []
        XCTAssertEqual(netnsDirs.filter { $0.contains("-kpod-cilium-test.") && layout.ownsNamespace($0) }, [], "/etc/netns dirs",
                       file: file, line: line)
        let dir = ExternalHost.directory(layout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "certificates and logs", file: file, line: line)
        XCTAssertEqual(Self.processes(mentioning: dir), [], "servers left running", file: file, line: line)
    }

    /// Pids whose command line mentions `text` (the servers name files under the workload dir or bind `ip`).
    private static func processes(mentioning text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text) && DetachedProcess.isAlive(pid)
        }
    }

    /// Without --external-ip the checks are skipped with how to enable them; with it (and the FQDN
    /// check's toFQDNs CNP filtered out by `-t kind=Deployment`) both pass: HTTPS to the IP, and DNS +
    /// HTTP to the name. Afterwards nothing of the host is left.
    func testExternalChecksPassAgainstSimulatedHost() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let selection = ["-t", "traffic=external", "-t", "kind=Deployment"]

        // Everything skipped: no check ran, so the run proved nothing (inconclusive, never a pass).
        let skipped = try conntest(fixture, selection)
        XCTAssertEqual(skipped.status, 3, skipped.stdout + skipped.stderr)
        XCTAssertTrue(skipped.stdout.contains("\"inconclusiveReason\": \"no check ran: 2 skipped\""), skipped.stdout)
        let before = try RunReport(json: skipped.stdout)
        for name in Self.externalChecks {
            XCTAssertEqual(before.check(name)?.result, "skipped", name)
            XCTAssertEqual(before.check(name)?.reason, LocalCapabilities.noExternalHostReason, name)
        }

        let ip = "198.18.200.1"
        let r = try conntest(fixture, selection + ["--external-ip", ip, "--external-fqdn", "external.example"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.exitCode, 0)
        for name in Self.externalChecks { XCTAssertEqual(report.check(name)?.result, "pass", "\(name)\n\(r.stderr)") }
        XCTAssertTrue(r.stderr.contains("starting external host \(ip) (external.example)"), r.stderr)
        try assertExternalHostGone(fixture, ip: ip)
    }

    /// `run` only simulates addresses in 198.18.0.0/15 outside the cluster's ranges: anything else
    /// exits 2 with one line naming the flag and the value, before anything is created. The
    /// generator still takes any address.
    func testRunRefusesExternalIPsOutsideTheSimulatedRange() throws {
        let scratch = ClusterNaming.Scratch()
        defer { scratch.remove() }  // nothing should come up; this is for a failing test
        let (name, stateDir, binDir, layout) = (scratch.name, scratch.stateDir, ClusterNaming.binDir, scratch.layout)

        for ip in ["1.1.1.1", "fd00::1", "198.19.1.50", "198.18.130.1", "198.18.0.250", "10.0.0.1"] {
            let r = try Command.run(["env", "NETHEALTH_STATE_DIR=\(stateDir)", "\(binDir)/conntest", "run", "--cluster", name,
                                     "--nodes", "1", "--external-ip", ip], timeout: 30)
            XCTAssertEqual(r.status, 2, "\(ip): \(r.stdout)\(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("--external-ip \"\(ip)\""), r.stderr)
            XCTAssertTrue(r.stderr.contains("198.18.0.0/15"), r.stderr)
            XCTAssertEqual(Netns.list().filter(layout.ownsNamespace), [], "nothing created for \(ip)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: layout.clusterDir), "no state for \(ip)")
        }
        // The simulated host is IPv4-only: an IPv6 run would test its external checks over IPv4.
        let v6 = try Command.run(["env", "NETHEALTH_STATE_DIR=\(stateDir)", "\(binDir)/conntest", "run", "--cluster", name,
                                  "--nodes", "1", "--external-ip", "198.18.200.1", "--ip-family", "ipv6"], timeout: 30)
        XCTAssertEqual(v6.status, 2, v6.stdout + v6.stderr)
        XCTAssertTrue(v6.stderr.contains("--external-ip cannot be combined with --ip-family ipv6"), v6.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.clusterDir), "no state for the IPv6 combination")
        let generated = try Command.run(["\(binDir)/conntest", "generate", "--external-ip", "1.1.1.1", "-t", "name=pod-to-external-1111"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.contains("https://1.1.1.1"))
    }
}
