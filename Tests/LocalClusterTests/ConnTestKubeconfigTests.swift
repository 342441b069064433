import Agent
import Foundation
import XCTest

/// `conntest run --kubeconfig`: the local cluster's real control plane reached as any cluster would
/// be, with nothing local assumed (no --cluster). What the tests assert comes from the report,
/// kubectl or the API.
final class ConnTestKubeconfigTests: XCTestCase {
    /// The default workload through the admin kubeconfig: every check that can run passes, drops
    /// are not claimed, `--cleanup` leaves no namespace; a second run against the namespace while
    /// the first one runs is refused, naming it, and the first one is unharmed.
    func testDefaultWorkloadThroughAKubeconfig() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 3, kubernetes: true)
        defer { cluster.down() }
        let kubeconfig = cluster.layout.kubeconfigPath
        let junit = cluster.stateDir + "/junit.xml"
        let started = Date()
        let first = try BackgroundCommand(cluster.conntestKubeArgv(kubeconfig, ["-o", "json", "--junit-file", junit, "--timeout", "90s",
                                                                                "--cleanup"]),
                                          environment: ["NETHEALTH_STATE_DIR": cluster.stateDir])
        defer { first.terminate() }
        XCTAssertTrue(first.waitForStderr(containing: "applying", seconds: 60), first.stderr)

        let second = try cluster.conntestRunKube(kubeconfig, ["-t", "name=pod-to-a", "--timeout", "30s"], timeout: 40)
        XCTAssertEqual(second.status, 2, second.stderr)
        XCTAssertTrue(second.stderr.contains("namespace 'cilium-test' is in use by another conntest run (conntest pid \(first.process.processIdentifier) on"),
                      second.stderr)

        first.process.waitUntilExit()
        print("conntest run --kubeconfig: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(first.process.terminationStatus, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stderr.contains("⌛ Waiting for deployment cilium-test/echo-a to become ready..."), first.stderr)
        XCTAssertTrue(first.stderr.contains("drops are not reported"), first.stderr)
        XCTAssertTrue(first.stderr.contains("the cilium-health check is left out: no DaemonSet labelled app.kubernetes.io/name=nethealth-health-daemon"),
                      "no health daemon deployed, so no check that could only fail: \(first.stderr)")
        let report = try RunReport(json: first.stdout)
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 9, "all but the two external checks, policy ones included: \(first.stdout)")
        XCTAssertTrue(ran.allSatisfy { $0.result == "pass" }, first.stdout)
        XCTAssertTrue(report.checks.allSatisfy { $0.drops == nil }, "no datapath view, so no drop counts: \(first.stdout)")
        XCTAssertTrue(report.check("pod-to-external-1111")?.reason?.contains("no external target named") == true, first.stdout)
        try assertReportsConform(json: first.stdout, junit: junit, written: #"{"tests": 11, "failures": 0, "errors": 0, "skipped": 2}"#)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertTrue(xml.contains(#"<testsuite name="connectivity test" id="0" package="cilium" tests="11""#), xml)
        XCTAssertEqual(xml.components(separatedBy: #"status="passed""#).count - 1, 9, xml)
        XCTAssertThrowsError(try cluster.kubectl(["get", "namespace", "cilium-test"]), "--cleanup waits until the namespace is gone")
    }

    /// Someone else's cluster: an occupied namespace, a read-only identity, servers that never
    /// answer or refuse, and admission plugins (ResourceQuota) refusing pods and NodePorts.
    func testRefusalsAndAPIErrorsThroughAKubeconfig() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { cluster.down() }
        let kubeconfig = cluster.layout.kubeconfigPath

        // A namespace holding someone else's pod: exit 2 naming it, nothing applied.
        try cluster.applyNamespaceWithForeignPod("busy")
        let busy = try cluster.conntestRunKube(kubeconfig, ["-n", "busy", "-t", "name=pod-to-a"])
        XCTAssertEqual(busy.status, 2, busy.stderr)
        XCTAssertTrue(busy.stderr.contains("pod someone-elses") && busy.stderr.contains("--allow-occupied-namespace"), busy.stderr)
        XCTAssertEqual(try cluster.names("deployments", in: "busy"), [], "nothing applied")
        XCTAssertEqual(try cluster.names("leases", in: "busy"), [], "the run's lease is given back")

        // A ServiceAccount bound to ClusterRole view, its token in a kubeconfig: kubectl reads with
        // it; the run is refused creating the namespace, named, and nothing is created.
        try cluster.apply("""
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: viewer, namespace: default}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: viewer-view}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects: [{kind: ServiceAccount, name: viewer, namespace: default}]
            """, waitForServiceAccountIn: "default")
        var token = ""
        try cluster.eventually("the viewer's token secret", timeout: 30) {
            let secret = try cluster.kubectl(["get", "serviceaccount", "viewer", "-n", "default", "-o", "jsonpath={.secrets[0].name}"])
            guard !secret.isEmpty else { return false }
            let b64 = try cluster.kubectl(["get", "secret", secret, "-n", "default", "-o", "jsonpath={.data.token}"])
            token = Data(base64Encoded: b64).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return !token.isEmpty
        }
        let admin = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        let viewer = cluster.stateDir + "/viewer.kubeconfig"
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster: {server: "\(try value(of: "server", in: admin))", certificate-authority: "\(try value(of: "certificate-authority", in: admin))"}
            users:
            - name: viewer
              user: {token: "\(token)"}
            contexts:
            - name: viewer
              context: {cluster: local, user: viewer}
            current-context: viewer
            """.write(toFile: viewer, atomically: true, encoding: .utf8)
        let kubectlAsViewer = try Command.run(["env", "KUBECONFIG=\(viewer)", "kubectl", "get", "pods", "-n", "busy", "-o", "name"])
        XCTAssertEqual(kubectlAsViewer.status, 0, "kubectl reads with the viewer's kubeconfig: \(kubectlAsViewer.stderr)")
        let denied = try cluster.conntestRunKube(viewer, ["-t", "name=pod-to-a"])
        XCTAssertEqual(denied.status, 2, denied.stderr)
        XCTAssertTrue(denied.stderr.contains("RBAC refused: create namespaces (cluster scope)"), denied.stderr)
        XCTAssertTrue(denied.stderr.contains(#"User "system:serviceaccount:default:viewer""#), denied.stderr)
        XCTAssertThrowsError(try cluster.kubectl(["get", "namespace", "cilium-test"]), "nothing created")
        // A token the server does not know: 401, said as such.
        let badToken = cluster.stateDir + "/bad-token.kubeconfig"
        try String(contentsOfFile: viewer, encoding: .utf8).replacingOccurrences(of: token, with: "not-a-token")
            .write(toFile: badToken, atomically: true, encoding: .utf8)
        let unauthorized = try cluster.conntestRunKube(badToken, ["-t", "name=pod-to-a"])
        XCTAssertEqual(unauthorized.status, 2, unauthorized.stderr)
        XCTAssertTrue(unauthorized.stderr.contains("the API server rejected the credentials (401 Unauthorized) on GET /version"),
                      unauthorized.stderr)

        // --no-cleanup keeps the namespace and its pods for inspection and gives the lease back; the
        // next run removes what is in it first and reuses it, and by default leaves it empty.
        let kept = try cluster.conntestRunKube(kubeconfig, ["-t", "name=pod-to-a", "--no-cleanup", "--timeout", "60s"], timeout: 90)
        XCTAssertEqual(kept.status, 0, kept.stdout + kept.stderr)
        XCTAssertTrue(kept.stderr.contains("keeping namespace cilium-test (--no-cleanup)"), kept.stderr)
        XCTAssertEqual(try cluster.names("deployments", in: "cilium-test").sorted(), ["echo-a", "pod-to-a"])
        XCTAssertEqual(try cluster.names("leases", in: "cilium-test"), [])
        let next = try cluster.conntestRunKube(kubeconfig, ["-t", "name=pod-to-a", "--timeout", "60s"], timeout: 90)
        XCTAssertEqual(next.status, 0, next.stdout + next.stderr)
        XCTAssertTrue(next.stderr.contains("reusing the namespace 'cilium-test' an earlier run made (removed the 3 objects it left)"),
                      next.stderr)
        try cluster.assertOnlyTheEmptyNamespaceStays()

        // Unreachable servers: a listener that accepts TCP and never answers TLS, and a closed port.
        let silent = try LoopbackListener()
        let closedPort = try LoopbackListener.closedPort()
        for (what, port, expected) in [("silent", silent.port, "no connection (TCP and TLS handshake) within 5.0 seconds"), ("closed", closedPort, "connection refused")] {
            let path = cluster.stateDir + "/\(what).kubeconfig"
            try admin.replacingOccurrences(of: try value(of: "server", in: admin), with: "https://127.0.0.1:\(port)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let t0 = Date()
            let r = try cluster.conntestRunKube(path, ["-t", "name=pod-to-a"], timeout: 40)
            let took = Date().timeIntervalSince(t0)
            print("unreachable server (\(what) port): exit \(r.status) after \(String(format: "%.2f", took)) s: \(r.stderr)")
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("cannot reach the Kubernetes API server at https://127.0.0.1:\(port)") && r.stderr.contains(expected),
                          r.stderr)
            XCTAssertLessThan(took, 15, "bounded by the 5 s connect and 10 s request timeouts")
        }

        // Admission: a ResourceQuota admits the three echo servers' pods but no more, and no NodePort.
        // The check pods' refusal is read from the ReplicaSets' FailedCreate events: every applied
        // check fails with the quota's words, long before the run timeout; the NodePort Service is
        // applied as ClusterIP and the checks probing its node port are skipped with the reason. A
        // CiliumClusterwideNetworkPolicy in the cluster is warned about.
        try cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: admission}
            ---
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: three-pods, namespace: admission}
            spec: {hard: {pods: "3", services.nodeports: "0"}}
            ---
            apiVersion: cilium.io/v2
            kind: CiliumClusterwideNetworkPolicy
            metadata: {name: selects-nothing}
            spec:
              endpointSelector: {matchLabels: {no-such-label: "x"}}
              ingress: [{}]
            """, waitForServiceAccountIn: "admission")
        try cluster.eventually("the quota's status", timeout: 30) {
            try cluster.kubectl(["get", "resourcequota", "three-pods", "-n", "admission", "-o", "jsonpath={.status.hard.pods}"]) == "3"
        }
        let t0 = Date()
        let quota = try cluster.conntestRunKube(kubeconfig, ["-n", "admission", "-o", "json", "--timeout", "90s"], timeout: 120)
        let took = Date().timeIntervalSince(t0)
        print("admission-rejected checks: exit \(quota.status) after \(String(format: "%.1f", took)) s (timeout 90 s)")
        XCTAssertEqual(quota.status, 1, quota.stdout + quota.stderr)
        XCTAssertLessThan(took, 45, "the refusal settles the checks; the run does not wait out its timeout")
        XCTAssertTrue(quota.stderr.contains("CiliumClusterwideNetworkPolicy") && quota.stderr.contains("selects-nothing"), quota.stderr)
        let report = try RunReport(json: quota.stdout)
        let failed = report.checks.filter { $0.result == "fail" }
        XCTAssertFalse(failed.isEmpty, quota.stdout)
        for check in failed {
            XCTAssertTrue(check.reason?.hasPrefix("pod rejected by admission: ") == true && check.reason?.contains("exceeded quota: three-pods") == true,
                          "\(check.name): \(check.reason ?? "no reason")")
        }
        XCTAssertEqual(report.checks.filter { $0.result == "pass" || $0.result == "pending" }.map(\.name), [], quota.stdout)
        let nodePortChecks = report.checks.filter { $0.name.contains("nodeport") }
        XCTAssertFalse(nodePortChecks.isEmpty, quota.stdout)
        for check in nodePortChecks {
            XCTAssertEqual(check.result, "skipped", check.name)
            XCTAssertTrue(check.reason?.contains("NodePort Service echo-b refused by admission") == true
                          && check.reason?.contains("services.nodeports") == true, check.reason ?? "no reason")
        }
        XCTAssertThrowsError(try cluster.kubectl(["get", "service", "echo-b", "-n", "admission"]), "cleaned up")

        // Another admission plugin, LimitRanger: its Container default exceeds the Pod maximum.
        try cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: limited}
            ---
            apiVersion: v1
            kind: LimitRange
            metadata: {name: tiny, namespace: limited}
            spec:
              limits:
              - {type: Pod, max: {cpu: 10m}}
              - {type: Container, default: {cpu: 50m}, defaultRequest: {cpu: 50m}}
            """, waitForServiceAccountIn: "limited")
        let limited = try cluster.conntestRunKube(kubeconfig, ["-n", "limited", "-t", "name=pod-to-a", "-o", "json", "--timeout", "60s"])
        XCTAssertEqual(limited.status, 1, limited.stdout + limited.stderr)
        XCTAssertTrue(try RunReport(json: limited.stdout).check("pod-to-a")?.reason?
                        .contains("is forbidden: maximum cpu usage per Pod is 10m, but limit is 50m") == true, limited.stdout)
        XCTAssertTrue(limited.stderr.contains("echo server cannot start, its checks will fail: echo-a: pod rejected by admission"), limited.stderr)

        try assertWebhookRefusalFailsTheCheck(cluster, kubeconfig: kubeconfig)
    }

    /// A real validating webhook (TLS, called by the apiserver) refusing the check's pods but not
    /// the echo server's: the check fails with the webhook's words (cilium/cilium#35637). It runs
    /// in the control plane's namespace on 127.0.0.1, so only the apiserver can reach it.
    private func assertWebhookRefusalFailsTheCheck(_ cluster: ClusterFixture, kubeconfig: String) throws {
        let dir = cluster.stateDir + "/webhook"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cert = try Command.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=deny-webhook",
                                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/tls.key", "-out", dir + "/tls.crt"])
        XCTAssertEqual(cert.status, 0, cert.stderr)
        let port = 18443
        let message = "nethealth test webhook refuses the pods of pod-to-a"
        let webhook = try BackgroundCommand(["ip", "netns", "exec", cluster.layout.controlPlaneNamespace, "python3",
                                             ClusterNaming.repositoryRoot + "/scripts/fixtures/admission-webhook.py",
                                             "--cert", dir + "/tls.crt", "--key", dir + "/tls.key", "--port", "\(port)",
                                             "--deny", "name=pod-to-a", "--message", message])
        defer { webhook.terminate() }
        XCTAssertTrue(webhook.waitForStderr(containing: "listening", seconds: 10), webhook.stderr)
        let caBundle = try Data(contentsOf: URL(fileURLWithPath: dir + "/tls.crt")).base64EncodedString()
        try cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: webhooked, labels: {nethealth-test: deny}}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: nethealth-test-deny}
            webhooks:
            - name: deny.nethealth.test
              admissionReviewVersions: [v1]
              sideEffects: None
              failurePolicy: Fail
              timeoutSeconds: 5
              namespaceSelector: {matchLabels: {nethealth-test: deny}}
              rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
              clientConfig: {url: "https://127.0.0.1:\(port)/validate", caBundle: \(caBundle)}
            """, waitForServiceAccountIn: "webhooked")
        let run = try cluster.conntestRunKube(kubeconfig, ["-n", "webhooked", "-t", "name=pod-to-a", "-o", "json", "--timeout", "60s"])
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr + webhook.stderr)
        let report = try RunReport(json: run.stdout)
        XCTAssertEqual(report.check("pod-to-a")?.result, "fail", run.stdout)
        let reason = report.check("pod-to-a")?.reason ?? ""
        XCTAssertTrue(reason.hasPrefix("pod rejected by admission: ")
                      && reason.contains(#"admission webhook "deny.nethealth.test" denied the request: \#(message)"#), run.stdout)
        XCTAssertTrue(webhook.stderr.contains("POST /validate"), "the apiserver asked the webhook: \(webhook.stderr)")
    }

    /// Flags that name no usable cluster, or local-only extras on a kubeconfig run: one line, exit 2, before any contact.
    func testKubeconfigFlagErrorsAreOneLine() throws {
        let scratch = ClusterNaming.Scratch()
        defer { scratch.remove() }
        let config = scratch.stateDir + "/some.kubeconfig"
        try FileManager.default.createDirectory(atPath: scratch.stateDir, withIntermediateDirectories: true)
        try """
            current-context: a
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
            contexts: [{name: a, context: {cluster: c}}]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        for (args, env, expected) in [
            (["--kubeconfig", config, "--cluster", "x"], [String](), "--cluster and --kubeconfig name different clusters"),
            (["--kubeconfig", config, "--monitor"], [], "--monitor applies only to a local cluster"),
            (["--kubeconfig", config, "--context", "nope"], [], "context 'nope' not found in \(config) (contexts: a)"),
            (["--kubeconfig", scratch.stateDir + "/missing"], [], "cannot read kubeconfig \(scratch.stateDir)/missing: no such file"),
            (["--context", "a"], [], "--context needs a kubeconfig"),
            (["--context", "a", "--nodes", "2"], ["KUBECONFIG=\(config)"], "--nodes applies only to a local cluster"),
            ([], ["KUBECONFIG=\(scratch.stateDir)/x:\(scratch.stateDir)/y"], "no such file among 2 paths"),
        ] {
            let r = try Command.run(["/usr/bin/env", "-u", "KUBECONFIG"] + env + ["NETHEALTH_STATE_DIR=\(scratch.stateDir)",
                                    "\(ClusterNaming.binDir)/conntest", "run", "-t", "name=pod-to-a"] + args, timeout: 30)
            XCTAssertEqual(r.status, 2, "\(args) \(env): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args) \(env): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { !$0.hasPrefix("adding what") }.count, 1, r.stderr)
        }
    }

    private func value(of key: String, in kubeconfig: String) throws -> String {
        guard let line = kubeconfig.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):") }) else {
            throw AgentError("no \(key) in the kubeconfig")
        }
        return line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
    }
}

/// A TCP listener on 127.0.0.1 that never accepts: the kernel completes handshakes into its
/// backlog, so a client connects and then hears nothing (a server that hangs before TLS).
final class LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        (fd, port) = try Self.bound()
        guard listen(fd, 16) == 0 else { close(fd); throw AgentError("listen: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// A port nothing listens on (bound, then closed).
    static func closedPort() throws -> Int {
        let (fd, port) = try bound()
        close(fd)
        return port
    }

    private static func bound() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AgentError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { close(fd); throw AgentError("bind: \(String(cString: strerror(errno)))") }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }
}
