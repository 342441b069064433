import Agent
import Foundation
import XCTest

/// The node agents as the cluster's policy datapath: the connectivity-check's policy checks applied
/// with kubectl are enforced by the agents' eBPF programs (the deny check Ready, its drops streamed
/// to every `agent monitor`), detaching the programs makes the deny check fail and the drops stop,
/// and removing or changing a policy opens or closes the endpoint within about a second. One
/// cluster for every case (CI time).
final class PolicyRoleTests: XCTestCase {
    static let namespace = "cilium-test"
    /// The policy checks of examples/connectivity-check/connectivity-check.yaml and what they need.
    static let objects: Set<String> = ["Deployment/echo-a", "Service/echo-a", "Deployment/pod-to-a-denied-cnp",
                                       "CiliumNetworkPolicy/pod-to-a-denied-cnp", "Deployment/pod-to-a-allowed-cnp",
                                       "CiliumNetworkPolicy/pod-to-a-allowed-cnp"]

    /// The documents of a multi-document manifest whose `Kind/name` is in `wanted`.
    static func documents(_ path: String, _ wanted: Set<String>) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let docs = text.components(separatedBy: "\n---\n").filter { doc in
            let lines = doc.split(separator: "\n")
            guard let kind = lines.first(where: { $0.hasPrefix("kind: ") })?.dropFirst(6),
                  let meta = lines.firstIndex(of: "metadata:"), meta + 1 < lines.count,
                  lines[meta + 1].hasPrefix("  name: ") else { return false }
            return wanted.contains("\(kind)/\(lines[meta + 1].dropFirst(8))")
        }
        return docs.joined(separator: "\n---\n")
    }

    func testPolicyChecksEnforcedByTheNodeAgents() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        let ns = Self.namespace
        let examples = ClusterNaming.repositoryRoot + "/examples/connectivity-check/"
        let manifest = try Self.documents(examples + "connectivity-check.yaml", Self.objects)
        XCTAssertEqual(manifest.components(separatedBy: "\n---\n").count, Self.objects.count, manifest)
        let manifestPath = cluster.layout.clusterDir + "/policy-checks.yaml"
        try manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)

        // Two readers at once, both from before the first drop.
        let monitors = try (0..<2).map { _ in
            try BackgroundCommand([cluster.binDir + "/agent", "monitor", "--name", cluster.name, "--type", "drop"],
                                  environment: ["NETHEALTH_STATE_DIR": cluster.stateDir])
        }
        defer { monitors.forEach { $0.terminate() } }
        for m in monitors { XCTAssertTrue(m.waitForStderr(containing: "Press Ctrl-C to quit", seconds: 10), m.stderr) }

        _ = try cluster.kubectl(["create", "ns", ns])
        try cluster.eventually("\(ns)'s default service account", timeout: 20) {
            (try? cluster.kubectl(["get", "serviceaccount", "default", "-n", ns, "-o", "name"])) != nil
        }
        _ = try cluster.kubectl(["apply", "-n", ns, "-f", manifestPath])
        let started = Date()
        let wait = try Command.run(["env", "KUBECONFIG=\(cluster.layout.kubeconfigPath)", "kubectl", "wait", "-n", ns,
                                    "--for=condition=Available", "--timeout=120s", "deployment/echo-a",
                                    "deployment/pod-to-a-allowed-cnp", "deployment/pod-to-a-denied-cnp"], timeout: 150)
        print("policy checks Available in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(wait.status, 0, "kubectl wait failed: \(wait.stdout)\(wait.stderr)\n"
                       + ((try? cluster.kubectl(["get", "pods", "-n", ns, "-o", "wide"])) ?? ""))

        let denied = try podName(cluster, "pod-to-a-denied-cnp")
        let allowed = try podName(cluster, "pod-to-a-allowed-cnp")
        // Before echo-a had an endpoint its ClusterIP led nowhere (and was not allowed); from Ready on, no drops.
        let allowedDrops = { (m: BackgroundCommand) in m.stdout.split(separator: "\n").filter { $0.contains("\(ns)/\(allowed) ->") } }
        Thread.sleep(forTimeInterval: 0.5)
        let allowedAtReady = allowedDrops(monitors[0])
        let echoIP = try cluster.kubectl(["get", "svc", "echo-a", "-n", ns, "-o", "jsonpath={.spec.clusterIP}"])
        let deniedNetns = cluster.layout.kubePodNamespace(namespace: ns, name: denied)

        // The agents' view: the deny check's pod is egress-enforced, echo-a is open.
        let status = try policyStatus(cluster)
        let endpoints = status.flatMap(\.endpoints)
        let deniedEndpoint = try XCTUnwrap(endpoints.first { $0.pod == "\(ns)/\(denied)" }, "\(status)")
        XCTAssertTrue(deniedEndpoint.egressEnforced)
        XCTAssertEqual(deniedEndpoint.egressPolicies, ["pod-to-a-denied-cnp"])
        XCTAssertTrue(try XCTUnwrap(endpoints.first { $0.pod == "\(ns)/\(allowed)" }).egressEnforced)
        XCTAssertFalse(try XCTUnwrap(endpoints.first { $0.pod.hasPrefix("\(ns)/echo-a-") }).egressEnforced)
        XCTAssertEqual(Set(status.map(\.state)), ["Ok"], "\(status)")

        // Both monitors see the deny check's drops (its probe runs every 10 s), named after its pod.
        let dropLine = { (m: BackgroundCommand) in
            m.stdout.split(separator: "\n").filter { $0.contains("(Policy denied)") && $0.contains("(\(ns)/\(denied) -> \(ns)/echo-a)") }
        }
        for (i, m) in monitors.enumerated() {
            try cluster.eventually("monitor \(i + 1) shows the deny check's drops", timeout: 30) { !dropLine(m).isEmpty }
        }
        XCTAssertTrue(dropLine(monitors[0]).contains { $0.contains("\(echoIP):8080 tcp") }, monitors[0].stdout)
        XCTAssertEqual(allowedDrops(monitors[0]), allowedAtReady, "the allowed check raises no drops once Ready")
        // One record as the lead's client reads it.
        let (record, received) = try XCTUnwrap(try firstDrop(cluster, node: deniedEndpointNode(status, pod: "\(ns)/\(denied)")))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parts = record.time.dropLast().split(separator: ".")  // RFC 3339 with up to 9 fraction digits
        let millis = ((parts.count > 1 ? String(parts[1]) : "") + "000").prefix(3)
        let dropped = try XCTUnwrap(formatter.date(from: "\(parts[0]).\(millis)Z"), record.time)
        print("drop stream latency (kernel event -> client): \(String(format: "%.1f", received.timeIntervalSince(dropped) * 1000)) ms")
        XCTAssertEqual(record.sourcePod, "\(ns)/\(denied)")
        XCTAssertEqual(record.destinationService, "\(ns)/echo-a")
        XCTAssertEqual(record.direction, "egress")
        XCTAssertEqual(record.destinationPort, 8080)

        // Detached: the deny check's probe (`! curl …`) fails as kubelet reports it, and no more drops.
        let detach = try cluster.agent(["cluster", "policy", "--name", cluster.name, "detach", "--all"])
        XCTAssertEqual(detach.status, 0, detach.stderr)
        XCTAssertTrue(detach.stdout.contains("node-1: Detached"), detach.stdout)
        Thread.sleep(forTimeInterval: 1)
        let dropsAtDetach = monitors.map { dropLine($0).count }
        XCTAssertTrue(try curl(deniedNetns, echoIP), "detached: the deny check's request goes through")
        try cluster.eventually("the deny check unready after detach", timeout: 60) {
            try podReady(cluster, denied) == false
        }
        let events = try cluster.kubectl(["get", "events", "-n", ns, "--field-selector",
                                          "involvedObject.name=\(denied),reason=Unhealthy", "-o", "jsonpath={.items[*].message}"])
        XCTAssertTrue(events.contains("Readiness probe failed:"), events)
        XCTAssertEqual(monitors.map { dropLine($0).count }, dropsAtDetach, "no drops while detached")

        // Attached again: enforced within about a second.
        let attach = try cluster.agent(["cluster", "policy", "--name", cluster.name, "attach", "--all"])
        XCTAssertEqual(attach.status, 0, attach.stderr)
        let reattached = try timeUntil("re-attached: denied again", timeout: 10) { try !curl(deniedNetns, echoIP, connectTimeout: 0.3) }
        print("attach -> enforced: \(String(format: "%.2f", reattached)) s")

        // The CNP deleted: the endpoint is fully open again.
        _ = try cluster.kubectl(["delete", "cnp", "pod-to-a-denied-cnp", "-n", ns])
        let opened = try timeUntil("CNP deleted: open", timeout: 10) { try curl(deniedNetns, echoIP, connectTimeout: 0.3) }
        print("CNP delete -> open: \(String(format: "%.2f", opened)) s")
        let open = try XCTUnwrap(try policyStatus(cluster).flatMap(\.endpoints).first { $0.pod == "\(ns)/\(denied)" })
        XCTAssertFalse(open.egressEnforced || open.ingressEnforced, "\(open)")
        XCTAssertEqual(open.rules, [])

        // The netpol-only variant's NetworkPolicy of the same check (egress: DNS only) closes it again.
        let netpol = try Self.documents(examples + "connectivity-check-netpol-only.yaml", ["NetworkPolicy/pod-to-a-denied-cnp"])
        XCTAssertTrue(netpol.contains("kind: NetworkPolicy"), netpol)
        let netpolPath = cluster.layout.clusterDir + "/netpol.yaml"
        try netpol.write(toFile: netpolPath, atomically: true, encoding: .utf8)
        _ = try cluster.kubectl(["apply", "-n", ns, "-f", netpolPath])
        let closed = try timeUntil("NetworkPolicy applied: denied", timeout: 10) { try !curl(deniedNetns, echoIP, connectTimeout: 0.3) }
        print("NetworkPolicy apply -> enforced: \(String(format: "%.2f", closed)) s")
        _ = try cluster.kubectl(["delete", "networkpolicy", "pod-to-a-denied-cnp", "-n", ns])
        _ = try timeUntil("NetworkPolicy deleted: open", timeout: 10) { try curl(deniedNetns, echoIP) }

        // A rule the L3/L4 datapath cannot enforce leaves the pod open (never closed) and says so.
        let unsupported = cluster.layout.clusterDir + "/fqdn.yaml"
        try """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: denied-fqdn-only}
            spec:
              endpointSelector: {matchLabels: {name: pod-to-a-denied-cnp}}
              egress:
              - toFQDNs: [{matchName: echo-a.example}]
            """.write(toFile: unsupported, atomically: true, encoding: .utf8)
        _ = try cluster.kubectl(["apply", "-n", ns, "-f", unsupported])
        try cluster.eventually("PolicyNotEnforced event on the CNP", timeout: 15) {
            try cluster.kubectl(["get", "events", "-n", ns, "--field-selector",
                                 "involvedObject.kind=CiliumNetworkPolicy,involvedObject.name=denied-fqdn-only,reason=PolicyNotEnforced",
                                 "-o", "jsonpath={.items[*].message}"]).contains("toFQDNs")
        }
        XCTAssertTrue(try curl(deniedNetns, echoIP), "an unsupported rule must not fail closed")
        XCTAssertTrue(try policyStatus(cluster).flatMap(\.notes).contains { $0.contains("denied-fqdn-only") })
        for m in monitors { XCTAssertTrue(m.process.isRunning, m.stderr) }
    }

    // MARK: helpers

    private func podName(_ cluster: ClusterFixture, _ app: String) throws -> String {
        try cluster.kubectl(["get", "pods", "-n", Self.namespace, "-l", "name=\(app)", "-o", "jsonpath={.items[0].metadata.name}"])
    }

    private func podReady(_ cluster: ClusterFixture, _ pod: String) throws -> Bool {
        try cluster.kubectl(["get", "pod", pod, "-n", Self.namespace, "-o",
                             "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "True"
    }

    private func policyStatus(_ cluster: ClusterFixture) throws -> [PolicyStatus] {
        let r = try cluster.agent(["cluster", "policy", "--name", cluster.name, "status", "-o", "json"])
        guard r.status == 0 else { throw AgentError("policy status failed: \(r.stderr)") }
        return try JSONDecoder().decode([PolicyStatus].self, from: Data(r.stdout.utf8))
    }

    private func deniedEndpointNode(_ status: [PolicyStatus], pod: String) throws -> String {
        try XCTUnwrap(status.first { $0.endpoints.contains { $0.pod == pod } }?.node)
    }

    /// The first drop of `node`'s stream through `AgentMonitorClient`, within 30 s.
    private func firstDrop(_ cluster: ClusterFixture, node: String) throws -> (DropRecord, Date)? {
        let socket = cluster.layout.agentSocket(node)
        let box = ResultBox<(DropRecord, Date)>()
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            do {
                for try await record in AgentMonitorClient.drops(socketPath: socket) {
                    box.set(.success((record, Date())))
                    break
                }
            } catch {
                box.set(.failure(error))
            }
            done.signal()
        }
        defer { task.cancel() }
        guard done.wait(timeout: .now() + 30) == .success else { throw AgentError("no drop from \(node) within 30 s") }
        return try box.get()
    }

    /// HTTP from the pod's namespace to echo-a's ClusterIP: true when it answers. A dropped SYN
    /// costs `connectTimeout` (short where the time to enforcement is measured).
    private func curl(_ netns: String, _ ip: String, connectTimeout: Double = 1) throws -> Bool {
        let r = try Command.run(["ip", "netns", "exec", netns, "curl", "-s", "-o", "/dev/null", "--connect-timeout", "\(connectTimeout)",
                                 "--max-time", "2", "http://\(ip):8080/private"], timeout: 5)
        return r.status == 0
    }

    /// Seconds until `condition` holds (polled every 50 ms), failing after `timeout`.
    private func timeUntil(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws -> TimeInterval {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if try condition() { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("\(what): not within \(timeout) s")
        throw AgentError("\(what): not within \(timeout) s")
    }
}

/// A value handed from a task to a waiting test thread.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?

    func set(_ r: Result<T, Error>) { lock.lock(); if result == nil { result = r }; lock.unlock() }

    func get() throws -> T? {
        lock.lock(); defer { lock.unlock() }
        return try result?.get()
    }
}
