import Foundation
import KubeClient

/// Where the control plane's programs are: kube-apiserver, kube-controller-manager and
/// kube-scheduler from the build cache (scripts/build-kubernetes.sh), etcd from Debian's etcd-server.
public struct ControlPlaneBinaries: Sendable {
    public static let version = "1.20.2"

    public let apiServer: String
    public let controllerManager: String
    public let scheduler: String
    public let etcd: String

    /// `$NETHEALTH_K8S_BIN`, else `$NETHEALTH_K8S_CACHE/kubernetes-<version>/bin`, else /var/cache/nethealth/….
    public static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let bin = env["NETHEALTH_K8S_BIN"], !bin.isEmpty { return bin }
        return (env["NETHEALTH_K8S_CACHE"] ?? "/var/cache/nethealth") + "/kubernetes-\(version)/bin"
    }

    /// Finds all four or says exactly what is missing and how to get it.
    public static func locate() throws -> ControlPlaneBinaries {
        let dir = directory
        let names = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
        let missing = names.filter { !FileManager.default.isExecutableFile(atPath: "\(dir)/\($0)") }
        guard missing.isEmpty else {
            throw AgentError("the Kubernetes \(version) control plane is not built (\(missing.joined(separator: ", ")) missing in \(dir)): "
                + "run `bash scripts/build-kubernetes.sh` once on this machine (about 5 min), "
                + "or pass --no-kubernetes for a cluster without a control plane")
        }
        guard let etcd = try? Command.resolve("etcd") else {
            throw AgentError("etcd not found: run `bash scripts/build-kubernetes.sh` (installs Debian's etcd-server), "
                + "or pass --no-kubernetes")
        }
        return ControlPlaneBinaries(apiServer: "\(dir)/kube-apiserver", controllerManager: "\(dir)/kube-controller-manager",
                                    scheduler: "\(dir)/kube-scheduler", etcd: etcd)
    }
}

/// The local cluster's Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
/// kube-scheduler in namespace `nh-<cluster>-cp`, plugged into the cluster bridge at 198.18.0.2
/// (nodes reach the apiserver over the cluster network), and a forwarder from the host's loopback
/// into that namespace for kubectl (host traffic never goes near a route out of the machine).
struct ControlPlane {
    let layout: StateLayout
    let spec: ClusterSpec
    let kube: ClusterSpec.KubernetesSpec
    let binaries: ControlPlaneBinaries

    static let apiServerIPv4 = "198.18.0.2"
    static let apiServerIPv6 = "fd00:198::2"
    static let serviceCIDR = "198.18.128.0/20"
    static let serviceCIDRv6 = "fd00:198:128::/112"

    /// The Kubernetes part of a new cluster's spec; `hostPort` comes from the forwarder's socket.
    static func plan(ipv6: Bool, hostPort: Int) -> ClusterSpec.KubernetesSpec {
        ClusterSpec.KubernetesSpec(
            version: ControlPlaneBinaries.version, apiServerIPv4: apiServerIPv4, apiServerIPv6: ipv6 ? apiServerIPv6 : nil,
            apiServerPort: 6443, hostPort: hostPort, serviceCIDR: ipv6 ? "\(serviceCIDR),\(serviceCIDRv6)" : serviceCIDR,
            leaseRenewSeconds: 2, leaseDurationSeconds: 10, nodeMonitorGraceSeconds: 10)
    }

    /// Every long-running process of the control plane, by the name of its pidfile and log.
    static let components = ["etcd", "kube-apiserver", "apiserver-forward", "kube-controller-manager", "kube-scheduler"]

    var namespace: String { layout.controlPlaneNamespace }
    /// Dual-stack Nodes (two podCIDRs) and Services are alpha in 1.20: without the gate the
    /// apiserver silently drops a Node's second podCIDR.
    var dualStack: [String] { spec.ipv6 ? ["--feature-gates=IPv6DualStack=true"] : [] }
    var pki: ControlPlanePKI { ControlPlanePKI(layout: layout, spec: spec, kube: kube) }

    /// Certificates, then the namespace, then each component in dependency order. Waits (bounded)
    /// until the apiserver is ready, installs what the cluster needs (CRDs, RBAC), then starts the
    /// controllers. `listener` is the host-loopback socket the forwarder will serve.
    func start(listener: HostListener, progress: (String) -> Void) async throws {
        progress("control plane: certificates and kubeconfigs")
        try pki.generate()
        try createNamespace()
        try FileManager.default.createDirectory(atPath: etcdDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])

        progress("control plane: starting etcd and kube-apiserver \(kube.version)")
        try spawn("etcd")
        try spawn("kube-apiserver")
        try spawnForwarder(listener)
        try await waitAPIServer(progress: progress)
        try await withAdmin { try await ControlPlaneBootstrap(client: $0).install() }

        progress("control plane: starting kube-controller-manager and kube-scheduler")
        try spawn("kube-controller-manager")
        try spawn("kube-scheduler")
    }

    /// The components whose process is gone (a crash, a `kill -9`).
    func deadComponents() -> [String] {
        Self.components.filter { DetachedProcess.readPidfile(pidfile($0)).map(DetachedProcess.isAlive) != true }
    }

    /// Restarts only what died, on the data it left (etcd keeps the cluster's objects), as a
    /// kubelet restarts a crashed static pod; the nodes' agents never stopped.
    func repair(progress: (String) -> Void) async throws {
        let dead = deadComponents()
        guard !dead.isEmpty else { return }
        progress("control plane: restarting \(dead.joined(separator: ", "))")
        for component in dead {
            if component == "apiserver-forward" {
                try spawnForwarder(try HostListener(port: kube.hostPort))
            } else {
                try spawn(component)
            }
        }
        try await waitAPIServer(progress: progress)
    }

    private var etcdDir: String { layout.controlPlaneDir + "/etcd" }
    private func pidfile(_ component: String) -> String { layout.controlPlaneDir + "/\(component).pid" }

    /// Each component's command line (the forwarder's is built with its socket).
    private func argv(_ component: String) -> [String] {
        let p = pki
        switch component {
        case "etcd":
            return [binaries.etcd, "--name=default", "--data-dir=\(etcdDir)",
                    "--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
                    "--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                    "--initial-cluster=default=http://127.0.0.1:2380", "--listen-metrics-urls=http://127.0.0.1:2381",
                    "--quota-backend-bytes=1073741824", "--logger=zap"]
        case "kube-apiserver":
            return [
                binaries.apiServer, "--etcd-servers=http://127.0.0.1:2379",
                "--bind-address=0.0.0.0", "--secure-port=\(kube.apiServerPort)", "--insecure-port=0",
                "--advertise-address=\(kube.apiServerIPv4)",
                "--tls-cert-file=\(p.apiServerCertificate)", "--tls-private-key-file=\(p.apiServerKey)",
                "--client-ca-file=\(p.caCertificate)",
                "--service-account-key-file=\(p.serviceAccountPublicKey)",
                "--service-account-signing-key-file=\(p.serviceAccountKey)",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=true", "--service-cluster-ip-range=\(kube.serviceCIDR)",
                "--cert-dir=\(layout.controlPlaneDir)/apiserver-certs", "--profiling=false",
                "--event-ttl=1h",
            ] + dualStack
        case "kube-controller-manager":
            let cm = p.componentKubeconfig(component)
            return [
                binaries.controllerManager, "--kubeconfig=\(cm)", "--authentication-kubeconfig=\(cm)",
                "--authorization-kubeconfig=\(cm)", "--use-service-account-credentials=true",
                "--root-ca-file=\(p.caCertificate)", "--service-account-private-key-file=\(p.serviceAccountKey)",
                "--cluster-signing-cert-file=\(p.caCertificate)", "--cluster-signing-key-file=\(p.dir)/ca.key",
                "--leader-elect=false", "--port=0", "--bind-address=127.0.0.1",
                "--cert-dir=\(layout.controlPlaneDir)/controller-manager-certs",
                "--node-monitor-period=1s", "--node-monitor-grace-period=\(kube.nodeMonitorGraceSeconds)s",
                "--profiling=false",
            ] + dualStack
        default:  // kube-scheduler
            let sched = p.componentKubeconfig(component)
            return [
                binaries.scheduler, "--kubeconfig=\(sched)", "--authentication-kubeconfig=\(sched)",
                "--authorization-kubeconfig=\(sched)", "--leader-elect=false", "--port=0", "--bind-address=127.0.0.1",
                "--cert-dir=\(layout.controlPlaneDir)/scheduler-certs", "--profiling=false",
            ] + dualStack
        }
    }

    private func waitAPIServer(progress: (String) -> Void) async throws {
        let started = ContinuousClock.now
        try await withAdmin { admin in try await waitReady(admin, timeout: .seconds(90)) }
        progress("control plane: kube-apiserver ready in \(formatSeconds(ContinuousClock.now - started))")
    }

    /// Polls until every node's Ready condition is True (bounded), reporting who is still missing.
    func waitNodesReady(timeout: Duration, progress: (String) -> Void) async throws {
        try await withAdmin { admin in try await waitNodesReady(admin, timeout: timeout, progress: progress) }
    }

    private func waitNodesReady(_ admin: KubeClient, timeout: Duration, progress: (String) -> Void) async throws {
        let deadline = ContinuousClock.now + timeout
        let wanted = Set(spec.nodes.map(\.name))
        var last = ""
        while true {
            var ready = Set<String>()
            var detail = "no answer from the apiserver"
            if let list = try? await admin.get("/api/v1/nodes", as: ObjectList<Node>.self) {
                ready = Set(list.items.filter { $0.condition("Ready")?.status == "True" }.compactMap(\.metadata.name))
                detail = "\(ready.intersection(wanted).count)/\(wanted.count) nodes Ready"
            }
            if wanted.isSubset(of: ready) { return }
            if detail != last { progress("control plane: \(detail)"); last = detail }
            guard ContinuousClock.now < deadline else {
                let missing = wanted.subtracting(ready).sorted()
                throw AgentError("nodes not Ready within \(timeout): \(missing.joined(separator: ", ")) "
                    + "(see \(missing.first.map(layout.agentLog) ?? "agent.log"))")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    // MARK: pieces

    /// The admin identity's client, shut down however `body` ends.
    func withAdmin<T>(_ body: (KubeClient) async throws -> T) async throws -> T {
        let admin = try KubeClient(try KubeConfig(path: layout.kubeconfigPath).connection(), timeout: .seconds(3))
        do {
            let result = try await body(admin)
            await admin.shutdown()
            return result
        } catch {
            await admin.shutdown()
            throw error
        }
    }

    private func createNamespace() throws {
        try Netns.add(namespace)
        try Netns.ip(namespace, "link", "set", "lo", "up")
        try ClusterNetwork.plugIntoBridge(namespace, port: "cp0", layout: layout)
        if !spec.ipv6 { try Netns.sysctl(namespace, ["net.ipv6.conf.all.disable_ipv6=1"]) }
        try Netns.ip(namespace, "addr", "add", "\(kube.apiServerIPv4)/\(ClusterSpec.nodeIPv4Prefix)", "dev", "eth0")
        if let v6 = kube.apiServerIPv6 {
            try Netns.ip(namespace, "-6", "addr", "add", "\(v6)/\(ClusterSpec.nodeIPv6Prefix)", "dev", "eth0", "nodad")
        }
        try Netns.ip(namespace, "link", "set", "eth0", "up")
        // Pods reach the apiserver through the `kubernetes` Service; replies go back via their node.
        for node in spec.nodes { try Netns.ip(namespace, "route", "add", node.podCIDRv4, "via", node.ipv4) }
    }

    private func spawn(_ component: String, argv explicit: [String]? = nil, inheriting fd: Int32? = nil) throws {
        let pid = try DetachedProcess.spawn(["nsenter", "--net=/run/netns/\(namespace)"] + (explicit ?? argv(component)),
                                            logPath: layout.controlPlaneLog(component), inheriting: fd)
        try AtomicFile.write(Data("\(pid)\n".utf8), to: pidfile(component))
    }

    /// `agent control-plane forward`, inside the namespace, serving the host-loopback socket.
    private func spawnForwarder(_ listener: HostListener) throws {
        let agent = DetachedProcess.executableDirectory + "/agent"
        try spawn("apiserver-forward", argv: [agent, "control-plane", "forward", "--listen-fd", "\(DetachedProcess.inheritedFD)",
                                              "--connect", "127.0.0.1:\(kube.apiServerPort)"], inheriting: listener.fd)
        listener.close()
    }

    private func waitReady(_ client: KubeClient, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError = ""
        while ContinuousClock.now < deadline {
            do {
                try await client.request(.GET, "/readyz")
                return
            } catch {
                lastError = "\(error)"
            }
            guard DetachedProcess.readPidfile(pidfile("kube-apiserver")).map(DetachedProcess.isAlive) == true else {
                throw AgentError("kube-apiserver exited at start: \(LogTail.lines(layout.controlPlaneLog("kube-apiserver"), count: 5, separator: "\n", missing: "(no log at \(layout.controlPlaneLog("kube-apiserver")))"))")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw AgentError("kube-apiserver not ready within \(timeout) (\(lastError)); log: \(layout.controlPlaneLog("kube-apiserver"))")
    }

}

/// A TCP socket bound and listening on 127.0.0.1 in the host's namespace, on a port the kernel
/// picks; handed to the forwarder, which runs inside the control plane's namespace.
final class HostListener {
    private(set) var fd: Int32
    let port: Int

    /// `port` 0 lets the kernel pick one (a new cluster); a repair binds the cluster's own port again.
    init(port: Int = 0) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw AgentError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 128) == 0 else {
            let err = String(cString: strerror(errno))
            Glibc.close(s)
            throw AgentError("cannot listen on 127.0.0.1:\(port): \(err)")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        fd = s
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
