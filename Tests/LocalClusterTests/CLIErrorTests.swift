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
        // Global options go before or after the subcommand, as with upstream's CLI. A malformed
        // -H is a usage error: exit 2, as for every bad flag of every tool here.
        for args in [["ping", "-H", "localhost:4240"], ["-H", "localhost:4240", "ping"]] {
            let r = try Command.run(["\(binDir)/cilium-health"] + args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertEqual(r.stderr, "Error: invalid host format 'localhost:4240'\n", "\(args)")
        }
        let xml = try Command.run(["\(binDir)/cilium-health", "status", "-o", "xml"])
        XCTAssertEqual(xml.status, 2, xml.stderr)
        XCTAssertTrue(xml.stderr.contains("'xml'"), xml.stderr)
    }

    /// `-o` (and every other option) goes before or after the subcommand.
    func testOptionsBeforeTheSubcommand() throws {
        for args in [["-o", "json", "status", "-H", "unix:///nonexistent/health.sock"],
                     ["-H", "unix:///nonexistent/health.sock", "-o", "json", "get"],
                     ["--timeout", "1s", "-o", "yaml", "status"]] {
            let r = try Command.run(["env", "CILIUM_HEALTH_SOCK=/nonexistent/health.sock", "\(binDir)/cilium-health"] + args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: Cannot get"), "\(args): parsed, then failed to connect: \(r.stderr)")
        }
    }

    /// A socket that accepts and never answers (a wedged daemon) must not hold the CLI: it
    /// fails within --timeout (default 5 s) and says so; --probe waits the probe deadline on top.
    func testSilentSocketFailsWithinTheTimeout() throws {
        let dir = NSTemporaryDirectory() + "nethealth-silent-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/health.sock"
        let listener = try SilentUnixListener(path: path)
        defer { listener.close() }
        for (args, bound) in [(["status", "--timeout", "1s"], 1.0), (["get", "--timeout", "1500ms"], 1.5),
                              (["status"], 5.0), (["status", "--probe", "--timeout", "1s"], 11.0)] {
            let started = Date()
            let r = try Command.run(["\(binDir)/cilium-health", "-H", "unix://\(path)"] + args, timeout: 60)
            let took = Date().timeIntervalSince(started)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("request timed out"), "\(args): \(r.stderr)")
            XCTAssertGreaterThanOrEqual(took, bound - 0.1, "\(args) gave up before its bound")
            XCTAssertLessThan(took, bound + 5, "\(args) waited past its bound of \(bound) s")
        }
        let help = try Command.run(["\(binDir)/cilium-health", "status", "--help"])
        XCTAssertTrue(help.stdout.contains("--timeout <duration>"), help.stdout)
        XCTAssertTrue(help.stdout.contains("(default: 5s)"), help.stdout)
        let bad = try Command.run(["\(binDir)/cilium-health", "status", "--timeout", "-1s"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("invalid --timeout '-1s'"), bad.stderr)
    }

    func testBadAgentInputIsRefusedWithoutSideEffects() throws {
        let state = NSTemporaryDirectory() + "nethealth-cli-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: state) }
        for (args, expected) in [
            (["cluster", "up", "--nodes", "0", "--name", "cli-bad"], "--nodes must be between 1 and 200"),
            (["cluster", "up", "--nodes", "2", "--name", "Bad_Name"], "invalid cluster name 'Bad_Name'"),
            (["cluster", "up", "--name", "cli-bad", "--endpoint-check-interval", "inf"],
             "--endpoint-check-interval must be 0.1-3600 seconds, got inf"),
            (["cluster", "up", "--name", "cli-bad", "--endpoint-relaunch-after", "nan"],
             "--endpoint-relaunch-after must be 0.1-86400 seconds, got nan"),
            (["cluster", "up", "--name", "cli-bad", "--probe-ratio", "-0.5"], "--probe-ratio must be within [0, 1], got -0.5"),
            (["cluster", "up", "--name", "cli-bad", "--nodes", "-2"], "--nodes must be between 1 and 200, got -2"),
            (["cluster", "down", "--name", "Bad_Name"], "invalid cluster name 'Bad_Name'"),
            (["cluster", "up", "--name", "cli-bad", "--socket-group", "no-such-group-14"],
             "--socket-group: no group 'no-such-group-14' on this machine"),
            (["cluster", "exec", "--name", "Bad_Name", "node-1", "--", "true"], "invalid cluster name 'Bad_Name'"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--delay", "-5"], "--delay must be 1-10000 milliseconds, got -5"),
            (["cluster", "fault", "--name", "cli-bad", "node-1", "--loss", "-5"], "--loss must be 1-100, got -5"),
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
            (["cluster", "up", "--name", "cli-bad", "--health", "daemonset", "--no-kubernetes"],
             "--health daemonset needs the Kubernetes control plane"),
            (["cluster", "up", "--name", "cli-bad", "--health", "pods"], "'pods'"),
            (["kubernetes-health", "--node-name", "n1", "--probe-ratio", "2"], "--probe-ratio must be in [0, 1]"),
            (["kubernetes-health", "--node-name", "n1", "--start-timeout", "0"], "--start-timeout must be 1-3600 seconds"),
            (["kubernetes-health"], "give --node-name or set $NODE_NAME"),
        ] {
            let r = try Command.run(["env", "NETHEALTH_STATE_DIR=\(state)", "\(binDir)/agent"] + args)
            // Bad input is a usage error (2); a cluster that is not up is a runtime failure (1).
            XCTAssertEqual(r.status, expected.contains("is not up") ? 1 : 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
        }
        XCTAssertFalse(Netns.list().contains { $0.hasPrefix("nh-cli-bad") })
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/cli-bad"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/cli-bad.lock"), "no lock left behind")
    }

    /// The DaemonSet's process outside a pod, or with an API server that does not answer: one line
    /// naming what is missing, exit 1, within its start bound.
    func testKubernetesHealthNamesMissingCredentialsAndAnUnreachableServer() throws {
        let outside = try Command.run(["env", "-u", "KUBECONFIG", "-u", "KUBERNETES_SERVICE_HOST", "NODE_NAME=n1",
                                       "\(binDir)/agent", "kubernetes-health"])
        XCTAssertEqual(outside.status, 1, outside.stderr)
        XCTAssertEqual(outside.stderr, "Error: not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset) and no kubeconfig given\n")

        let dir = NSTemporaryDirectory() + "nethealth-kh-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Port 9 on loopback: nothing listens, so the connection is refused at once and nothing leaves the machine.
        try KubeConfigFile.token(server: "https://127.0.0.1:9").write(toFile: dir + "/kubeconfig", atomically: true, encoding: .utf8)
        let started = Date()
        let r = try Command.run(["env", "NODE_NAME=n1", "\(binDir)/agent", "kubernetes-health", "--kubeconfig", dir + "/kubeconfig",
                                 "--socket-dir", dir + "/sockets", "--start-timeout", "2"], timeout: 30)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot list the cluster's nodes within 2.0 seconds: cannot reach the Kubernetes API server at https://127.0.0.1:9"),
                      r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "bounded by --start-timeout")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/sockets"), "nothing created before the API answered")
    }

    /// Every executable: usage errors exit 2 with one line naming the value (ArgumentParser alone exits 64).
    func testUsageErrorsExitTwoEverywhere() throws {
        for argv in [["nfq-delay", "--queue", "1", "--delay-ms", "-5"], ["cilium-health-responder", "--listen", "70000"],
                     ["cilium-health-responder", "--read-header-timeout", "inf"], ["echo-server", "--idle-timeout", "0"],
                     ["conntest", "run", "--nodes", "-1"], ["agent", "cluster", "up", "--nodes", "abc"],
                     ["conntest", "run", "--timeout", "1e300"], ["cilium-health", "status", "--timeout", "1e300"]] {
            let r = try Command.run(["\(binDir)/\(argv[0])"] + argv.dropFirst())
            XCTAssertEqual(r.status, 2, "\(argv): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(argv): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(argv.last ?? ""), "\(argv): names the value: \(r.stderr)")
        }
    }

    /// The library checks too, before it takes the lock or creates anything.
    func testUpWithInfiniteIntervalCreatesNothing() async throws {
        let scratch = ClusterNaming.Scratch()
        defer { scratch.remove() }
        let cluster = try LocalCluster(name: scratch.name, stateRoot: scratch.stateDir)
        do {
            _ = try await cluster.up(ClusterUpRequest(nodes: 1, endpointCheckSeconds: .infinity)) { _ in }
            XCTFail("an infinite interval was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("--endpoint-check-interval must be 0.1-3600 seconds, got inf"), "\(error)")
        }
        XCTAssertEqual(Netns.list().filter(scratch.layout.ownsNamespace), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.layout.lockPath), "no lock left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.layout.clusterDir))
    }

    /// `conntest run` checks what it will write and what it will run before any cluster or pod exists.
    func testConntestRunValidatesBeforeActing() throws {
        let scratch = ClusterNaming.Scratch()
        defer { scratch.remove() }
        let dir = scratch.stateDir + "-out"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func conntest(_ args: [String]) throws -> Command.Result {
            try Command.run(["env", "NETHEALTH_STATE_DIR=\(scratch.stateDir)", "\(binDir)/conntest", "run",
                             "--cluster", scratch.name] + args, timeout: 60)
        }
        for (args, expected) in [(["--junit-file", dir], "invalid --junit-file '\(dir)': is a directory"),
                                 (["--junit-file", dir + "/missing/junit.xml"], "no such file or directory"),
                                 (["--history-db", dir], "invalid --history-db: run history database '\(dir)' is a directory: give a file path")] {
            let r = try conntest(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("bringing up"), "failed before any cluster or pod: \(r.stderr)")
        }
        // No check selected: inconclusive with the reason, and no cluster is brought up for nothing.
        let none = try conntest(["-t", "name=does-not-exist", "-o", "json"])
        XCTAssertEqual(none.status, 3, none.stdout + none.stderr)
        XCTAssertTrue(none.stderr.contains("no check ran: the selection matched no check"), none.stderr)
        XCTAssertTrue(none.stdout.contains("\"inconclusiveReason\": \"no check ran: the selection matched no check\""), none.stdout)
        let zero = try conntest(["-t", "name=does-not-exist", "--exit-zero-on-failure"])
        XCTAssertEqual(zero.status, 0, zero.stderr)
        XCTAssertTrue(zero.stdout.contains("⌛ inconclusive: no check ran"), zero.stdout)
        XCTAssertEqual(Netns.list().filter(scratch.layout.ownsNamespace), [], "no namespace was created")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.layout.clusterDir))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no temp file left")
    }
}

/// A unix socket that accepts connections (the kernel completes them from the backlog) and never
/// reads or answers: a wedged daemon.
final class SilentUnixListener {
    private let fd: Int32
    private let path: String

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        } && listen(fd, 16) == 0
        guard ok else { throw AgentError("cannot listen on \(path): \(String(cString: strerror(errno)))") }
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

/// A one-context kubeconfig with a bearer token, for tests that need a client pointed somewhere.
enum KubeConfigFile {
    static func token(server: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "\(server)", insecure-skip-tls-verify: true}
        users:
        - name: u
          user: {token: abc}
        contexts:
        - name: x
          context: {cluster: c, user: u}
        current-context: x
        """
    }
}
