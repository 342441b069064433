import ConnTest
import Foundation
import KubeClient
import Logging

/// What a container's image means on this machine, which pulls no images: json-mock (the checks'
/// echo server) runs `echo-server`, curl images run nothing (their `sleep` only keeps a container
/// alive; probes exec in the pod's namespace), our own image (`nethealth`, deploy/) runs the built
/// binary its command names, anything else cannot run here.
enum LocalImage: Equatable {
    case echo, idle, ours, unsupported

    init(_ image: String) {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        let name = String(last.split(separator: "@").first?.split(separator: ":").first ?? "")
        if name == "json-mock" || name == "echo-server" {
            self = .echo
        } else if name == "nethealth" {
            self = .ours
        } else if name.contains("curl") {
            self = .idle
        } else {
            self = .unsupported
        }
    }

    static let unsupportedReason = "ImageNotRunnableLocally"

    static func unsupportedMessage(_ image: String) -> String {
        "the local node agent runs only json-mock (as echo-server), curl and nethealth images; \(image) cannot run on this machine"
    }
}

/// One Pod bound to this node, run as kubelet would: its network namespace (or the node's for
/// hostNetwork), its containers, their probes with kubelet semantics, its status and Events.
actor PodWorker {
    let pod: Pod
    let node: ClusterSpec.NodeSpec
    let layout: StateLayout
    let client: KubeClient
    let events: EventRecorder
    let logger: Logger
    let ip: String
    let ipv6: String?

    private struct ContainerState {
        var image: LocalImage
        var startedAt: String?
        var pid: pid_t?
        var runner: ProbeRunner?
        var lastTermination: String?
    }

    private var containers: [String: ContainerState] = [:]
    private var tasks: [Task<Void, Never>] = []
    private var transitions: [String: (status: String, at: String)] = [:]
    private var posted: Pod.Status?
    private let startTime = KubeTime.time(Date())

    init(pod: Pod, ip: String, ipv6: String?, node: ClusterSpec.NodeSpec, layout: StateLayout, client: KubeClient,
         events: EventRecorder, logger: Logger) {
        self.pod = pod
        self.ip = ip
        self.ipv6 = ipv6
        self.node = node
        self.layout = layout
        self.client = client
        self.events = events
        self.logger = logger
    }

    var hostNetwork: Bool { pod.spec.hostNetwork == true }
    var name: String { pod.metadata.name ?? "" }
    var namespace: String { pod.metadata.namespace ?? "default" }
    var uid: String { pod.metadata.uid ?? "" }
    var netns: String { hostNetwork ? layout.nodeNamespace(node.name) : layout.kubePodNamespace(namespace: namespace, name: name) }

    /// Sets up the network, starts the containers and probes, then keeps the status posted.
    /// `trustedCA` is the simulated internet's CA, given to the pod as its image's trust store.
    func start(trustedCA: String? = nil) async {
        do {
            if !hostNetwork {
                if Netns.exists(netns) { PodNetwork.remove(namespace: netns) }  // left by an earlier agent
                try PodNetwork(layout: layout, node: node).create(pod: "\(namespace)/\(name)", ipv4: ip, ipv6: ipv6, namespace: netns)
            }
            // kubelet's resolv.conf: ClusterFirst pods (and ClusterFirstWithHostNet host pods) ask this node's DNS replica.
            let policy = pod.spec.dnsPolicy ?? "ClusterFirst"
            if (!hostNetwork && policy != "Default" && policy != "None") || (hostNetwork && policy == "ClusterFirstWithHostNet") {
                try ResolvConf.write(ResolvConf.clusterFirst(nameserver: ServiceRole.dnsIP(node), namespace: namespace), namespace: netns)
            }
            if let trustedCA, !hostNetwork { try PodTrustStore.write(trustedCA, namespace: netns) }
            if pod.spec.containers.contains(where: { LocalImage($0.image ?? "") == .ours }) {
                try await launch(pod.spec.containers[0]).writeSecrets(client: client)
            }
        } catch {
            logger.error("pod \(namespace)/\(name): network setup failed: \(error)")
            Task { await events.record(pod, container: nil, reason: "FailedCreatePodSandBox", message: "\(error)") }
            tasks.append(Task { await self.syncStatusLoop() })
            return
        }
        for c in pod.spec.containers {
            let image = LocalImage(c.image ?? "")
            var state = ContainerState(image: image)
            if image != .unsupported {
                state.startedAt = KubeTime.time(Date())
                state.pid = spawn(c, image)
                state.runner = makeRunner(c)
            }
            containers[c.name] = state
            if let runner = state.runner { tasks.append(Task { await runner.run() }) }
            if image == .unsupported {
                let message = LocalImage.unsupportedMessage(c.image ?? "")
                Task { await events.record(pod, container: c.name, reason: "Failed", message: message) }
            }
        }
        tasks.append(Task { await self.syncStatusLoop() })
    }

    /// Stops probes and processes and removes the pod's namespace.
    func stop() async {
        tasks.forEach { $0.cancel() }
        tasks = []
        for (_, c) in containers { if let pid = c.pid { DetachedProcess.stop(pid, grace: 1) } }
        for c in pod.spec.containers where LocalImage(c.image ?? "") == .ours { unlink(pidfile(c)) }
        if !hostNetwork { PodNetwork.remove(namespace: netns) }  // its /etc/netns entry (resolv.conf, CA) too
        try? FileManager.default.removeItem(atPath: ContainerLaunch.volumeDir(layout, node: node.name, namespace: namespace, pod: name))
        await events.forget(uid: uid)
    }

    // MARK: containers

    private func spawn(_ c: Pod.Container, _ image: LocalImage) -> pid_t? {
        switch image {
        case .echo: return spawnEcho(c)
        case .ours: return spawnOurs(c)
        case .idle, .unsupported: return nil
        }
    }

    private func launch(_ c: Pod.Container) -> ContainerLaunch {
        ContainerLaunch(pod: pod, container: c, node: node, layout: layout, netns: netns, podIP: ip,
                        apiServer: client.connection.server)
    }

    private var logDir: String { layout.nodeDir(node.name) + "/pods" }

    private func pidfile(_ c: Pod.Container) -> String { logDir + "/\(namespace).\(name).\(c.name).pid" }

    /// Our containers are daemons holding ports and sockets: the one an earlier agent started for
    /// this pod (running pods outlive their agent) is stopped first, or the new one could not bind.
    private func spawnOurs(_ c: Pod.Container) -> pid_t? {
        let log = logDir + "/\(namespace).\(name).\(c.name).log"
        // Only if that pid still runs one of our binaries (not a pid reused since).
        if let old = DetachedProcess.readPidfile(pidfile(c)),
           let cmdline = try? String(contentsOfFile: "/proc/\(old)/cmdline", encoding: .utf8),
           cmdline.hasPrefix(DetachedProcess.executableDirectory + "/") {
            DetachedProcess.stop(old, grace: 1)
        }
        do {
            try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
            let l = launch(c)
            let pid = try DetachedProcess.spawn(try l.argv(), logPath: log, environment: try l.environment())
            try AtomicFile.write(Data("\(pid)\n".utf8), to: pidfile(c))
            return pid
        } catch {
            logger.error("pod \(namespace)/\(name): cannot start \(c.name): \(error)")
            Task { await events.record(pod, container: c.name, reason: "Failed", message: "\(error)") }
            return nil
        }
    }

    private func spawnEcho(_ c: Pod.Container) -> pid_t? {
        var env = ProcessInfo.processInfo.environment
        for e in c.env ?? [] { env[e.name] = e.value ?? "" }
        // An IPv4-only node namespace has IPv6 disabled, where binding "::" fails.
        let address = hostNetwork && node.ipv6 == nil ? ["--address", "0.0.0.0"] : []
        let log = layout.nodeDir(node.name) + "/pods/\(namespace).\(name).\(c.name).log"
        try? FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            return try DetachedProcess.spawn(["nsenter", "--net=/run/netns/\(netns)",
                                              DetachedProcess.executableDirectory + "/echo-server"] + address,
                                             logPath: log, environment: env)
        } catch {
            logger.error("pod \(namespace)/\(name): cannot start \(c.name): \(error)")
            return nil
        }
    }

    private func makeRunner(_ c: Pod.Container) -> ProbeRunner? {
        let readiness = c.readinessProbe.flatMap { probeSpec($0) }
        let liveness = c.livenessProbe.flatMap { probeSpec($0) }
        let container = c.name
        let exec: ProbeExec
        if LocalImage(c.image ?? "") == .ours {
            // Our containers have a mount namespace of their own (their volumes): probes exec there.
            exec = { [weak self] command, timeout in
                guard let pid = await self?.containers[container]?.pid else {
                    return ProbeExecResult(exitCode: 126, output: "container \(container) is not running")
                }
                return await LocalCommandExec(prefix: ["nsenter", "--target", "\(pid)", "--mount", "--net", "--",
                                                       "env", "PATH=\(ContainerLaunch.searchPath)"]).run(command, timeout: timeout)
            }
        } else {
            exec = LocalCommandExec(prefix: ["ip", "netns", "exec", netns]).exec
        }
        let pod = self.pod
        let events = self.events
        return ProbeRunner(container: container, readiness: readiness, liveness: liveness, exec: exec,
                           onRestart: { [weak self] _ in await self?.restart(container) },
                           onResult: { kind, result in
                               guard !result.succeeded else { return }
                               await events.record(pod, container: container, reason: "Unhealthy",
                                                   message: "\(kind.rawValue) probe failed: \(Self.probeOutput(result))")
                           })
    }

    /// httpGet probes become the same request made with curl from the pod's namespace, tcpSocket
    /// probes a connect from it.
    private func probeSpec(_ p: Pod.Probe) -> ProbeSpec? {
        var command: [String]
        if let argv = p.exec?.command, !argv.isEmpty {
            command = LocalProbeCommand.adapt(argv)
        } else if let http = p.httpGet, let port = http.port, case .int(let n) = port {
            command = ["curl", "-sS", "--fail", "-o", "/dev/null", "--max-time", "\(max(1, p.timeoutSeconds ?? 1))",
                       "http://\(ip.contains(":") ? "[\(ip)]" : ip):\(n)\(http.path ?? "/")"]
        } else if let tcp = p.tcpSocket, let port = tcp.port, case .int(let n) = port {
            // kubelet's tcpSocket probe is a TCP connect to the pod IP; bash's /dev/tcp does exactly that.
            command = ["bash", "-c", "exec 3<>/dev/tcp/\(ip)/\(n)"]
        } else {
            command = ["/bin/sh", "-c", "echo 'probe type not supported by the local node agent (exec, and httpGet and tcpSocket with a numeric port, are)' >&2; exit 1"]
        }
        // Kubernetes treats 0 (and absent) as the default for these fields.
        func positive(_ v: Int?, _ fallback: Int) -> Double {
            guard let v, v > 0 else { return Double(fallback) }
            return Double(v)
        }
        return ProbeSpec(command: command, initialDelaySeconds: Double(max(0, p.initialDelaySeconds ?? 0)),
                         periodSeconds: positive(p.periodSeconds, 10), timeoutSeconds: positive(p.timeoutSeconds, 1),
                         successThreshold: Int(positive(p.successThreshold, 1)), failureThreshold: Int(positive(p.failureThreshold, 3)))
    }

    /// A liveness restart: kubelet's `Killing` event, then the container runs again.
    private func restart(_ container: String) async {
        guard var c = containers[container], let spec = pod.spec.containers.first(where: { $0.name == container }) else { return }
        await events.record(pod, container: container, type: "Normal", reason: "Killing",
                            message: "Container \(container) failed liveness probe, will be restarted")
        if let pid = c.pid { DetachedProcess.stop(pid, grace: 1) }
        c.lastTermination = c.startedAt
        c.startedAt = KubeTime.time(Date())
        c.pid = spawn(spec, c.image)
        containers[container] = c
    }

    static func probeOutput(_ r: ProbeExecResult) -> String {
        if r.timedOut { return "command timed out" }
        let text = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "exit status \(r.exitCode)" : text
    }

    // MARK: status

    private func syncStatusLoop() async {
        while !Task.isCancelled {
            let status = await currentStatus()
            if status != posted {
                struct Patch: Encodable { var status: Pod.Status }
                do {
                    try await client.mergePatch("/api/v1/namespaces/\(namespace)/pods/\(name)/status", Patch(status: status))
                    posted = status
                } catch {
                    logger.warning("pod \(namespace)/\(name): status update failed: \(error)")
                }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    private func currentStatus() async -> Pod.Status {
        var statuses: [Pod.ContainerStatus] = []
        for c in pod.spec.containers {
            guard let state = containers[c.name] else { continue }
            let probe = await state.runner?.status
            let image = c.image ?? ""
            let running = state.startedAt.map { Pod.ContainerState.running(since: $0) }
                ?? .waiting(LocalImage.unsupportedReason, LocalImage.unsupportedMessage(image))
            let last = state.lastTermination.map {
                Pod.ContainerState.terminated(exitCode: 137, reason: "Error", startedAt: $0, finishedAt: state.startedAt ?? $0)
            } ?? Pod.ContainerState()
            statuses.append(Pod.ContainerStatus(
                name: c.name, ready: state.startedAt != nil && probe?.ready == true, started: state.startedAt != nil,
                restartCount: probe?.restartCount ?? 0, image: image, imageID: "",
                containerID: state.startedAt == nil ? nil : "nethealth://\(uid.prefix(8))-\(c.name)",
                state: running, lastState: last))
        }
        let unready = statuses.filter { !$0.ready }.map(\.name)
        let allStarted = statuses.allSatisfy { $0.started == true }
        var s = Pod.Status()
        s.phase = allStarted ? "Running" : "Pending"
        s.hostIP = node.ipv4
        s.podIP = ip
        s.podIPs = [ip, ipv6].compactMap { $0 }.map(Pod.PodIP.init(ip:))
        s.startTime = startTime
        s.containerStatuses = statuses
        let readyStatus = unready.isEmpty ? "True" : "False"
        let message = unready.isEmpty ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        s.conditions = [
            condition("Initialized", "True"),
            condition("Ready", readyStatus, reason: unready.isEmpty ? nil : "ContainersNotReady", message: message),
            condition("ContainersReady", readyStatus, reason: unready.isEmpty ? nil : "ContainersNotReady", message: message),
            condition("PodScheduled", "True"),
        ]
        return s
    }

    private func condition(_ type: String, _ status: String, reason: String? = nil, message: String? = nil) -> Pod.Condition {
        if transitions[type]?.status != status { transitions[type] = (status, KubeTime.time(Date())) }
        return Pod.Condition(type: type, status: status, reason: reason, message: message,
                             lastTransitionTime: transitions[type]?.at)
    }
}
