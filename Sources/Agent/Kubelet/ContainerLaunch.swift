import Foundation
import KubeClient

/// How the local kubelet starts one of our own containers (image `nethealth`, see deploy/): the
/// program is the built binary the container's command names, run in the pod's network namespace
/// (the node's for hostNetwork) and in a private mount namespace of its own, where its volumes are
/// bind mounts: hostPath under the node's host root, secrets (the service-account token) as files.
/// The mount namespace, and so every mount, goes away with the process. With `capabilities.drop:
/// [ALL]` the process keeps only the added capabilities (its bounding set), as a runtime would.
struct ContainerLaunch {
    let pod: Pod
    let container: Pod.Container
    let node: ClusterSpec.NodeSpec
    let layout: StateLayout
    let netns: String
    let podIP: String
    let apiServer: String

    /// Our binaries an image may run.
    static let programs: Set<String> = ["agent", "cilium-health", "cilium-health-responder", "echo-server"]
    /// What the image's base system (Debian, deploy/Containerfile) adds: a container that only
    /// holds a probe (conntest's cilium-health check) sleeps.
    static let basePrograms = ["sleep": "/bin/sleep"]
    /// PATH inside our containers: the image puts our binaries first.
    static var searchPath: String { DetachedProcess.executableDirectory + ":/usr/sbin:/usr/bin:/sbin:/bin" }

    var namespace: String { pod.metadata.namespace ?? "default" }
    var podName: String { pod.metadata.name ?? "" }
    /// Files of the pod's secret volumes.
    static func volumeDir(_ layout: StateLayout, node: String, namespace: String, pod: String) -> String {
        layout.nodeDir(node) + "/pods/\(namespace).\(pod).volumes"
    }

    /// The built binary the container's command (or first arg) names.
    func program() throws -> [String] {
        let argv = (container.command ?? []) + (container.args ?? [])
        guard let first = argv.first else {
            throw AgentError("container \(container.name) of an image `nethealth` needs a command (one of \(Self.programs.sorted().joined(separator: ", ")))")
        }
        let name = (first as NSString).lastPathComponent
        if let base = Self.basePrograms[name] { return [base] + argv.dropFirst() }
        guard Self.programs.contains(name) else {
            throw AgentError("container \(container.name) runs '\(first)', which is not one of our binaries (\(Self.programs.sorted().joined(separator: ", ")))")
        }
        let path = DetachedProcess.executableDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else { throw AgentError("\(path) is not built") }
        return [path] + argv.dropFirst()
    }

    /// The downward-API fields kubelet resolves for `valueFrom.fieldRef`.
    func field(_ path: String) -> String? {
        switch path {
        case "spec.nodeName": node.name
        case "metadata.name": podName
        case "metadata.namespace": namespace
        case "status.podIP": podIP
        case "status.hostIP": node.ipv4
        case "spec.serviceAccountName": pod.spec.serviceAccountName ?? "default"
        default: nil
        }
    }

    /// kubelet's environment: the service's address for in-cluster config, then the container's own.
    func environment() throws -> [String: String] {
        var env = ["PATH": Self.searchPath, "HOSTNAME": podName]
        if let url = URL(string: apiServer), let host = url.host {
            env["KUBERNETES_SERVICE_HOST"] = host
            env["KUBERNETES_SERVICE_PORT"] = "\(url.port ?? 443)"
        }
        for e in container.env ?? [] {
            if let ref = e.valueFrom?.fieldRef {
                guard let value = field(ref.fieldPath) else {
                    throw AgentError("env \(e.name) of container \(container.name): fieldRef \(ref.fieldPath) is not supported locally")
                }
                env[e.name] = value
            } else {
                env[e.name] = e.value ?? ""
            }
        }
        return env
    }

    /// (source, target, read-only) for each volumeMount.
    func mounts() throws -> [(String, String, Bool)] {
        let volumes = Dictionary((pod.spec.volumes ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return try (container.volumeMounts ?? []).map { m in
            guard let v = volumes[m.name] else { throw AgentError("volumeMount \(m.name) names no volume of the pod") }
            let source: String
            if let hostPath = v.hostPath {
                source = layout.nodeHostPath(node.name, hostPath.path)
                try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            } else if v.secret != nil {
                source = Self.volumeDir(layout, node: node.name, namespace: namespace, pod: podName) + "/" + v.name
            } else {
                throw AgentError("volume \(v.name): only hostPath and secret volumes are mounted locally")
            }
            return (source, m.mountPath, m.readOnly == true)
        }
    }

    /// Writes the secret volumes' files (fetched with the node's identity, as kubelet does).
    func writeSecrets(client: KubeClient) async throws {
        struct Secret: Decodable { var data: [String: String]? }
        for v in pod.spec.volumes ?? [] {
            guard let name = v.secret?.secretName else { continue }
            let secret = try await client.get("/api/v1/namespaces/\(namespace)/secrets/\(name)", as: Secret.self)
            let dir = Self.volumeDir(layout, node: node.name, namespace: namespace, pod: podName) + "/" + v.name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            for (key, value) in secret.data ?? [:] {
                guard let bytes = Data(base64Encoded: value) else { throw AgentError("secret \(name): key \(key) is not base64") }
                try AtomicFile.write(bytes, to: dir + "/" + key)
            }
        }
    }

    /// `nsenter` into the network namespace, `unshare` a private mount namespace, bind the volumes,
    /// narrow the capabilities, exec the program (every step execs, so the pid is the program's).
    func argv() throws -> [String] {
        let script = """
            set -e
            while [ "$1" != -- ]; do
              mkdir -p "$2"; mount --bind "$1" "$2"
              if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
              shift 3
            done
            shift
            exec "$@"
            """
        var argv = ["nsenter", "--net=/run/netns/\(netns)", "unshare", "--mount", "--propagation", "private",
                    "/bin/sh", "-c", script, "container"]
        for (source, target, ro) in try mounts() { argv += [source, target, ro ? "ro" : "rw"] }
        argv.append("--")
        let caps = container.securityContext?.capabilities
        if caps?.drop?.contains(where: { $0.uppercased() == "ALL" }) == true {
            let keep = (caps?.add ?? []).map { "+" + $0.lowercased().replacingOccurrences(of: "cap_", with: "") }
            argv += ["setpriv", "--bounding-set", (["-all"] + keep).joined(separator: ","), "--"]
        }
        return argv + (try program())
    }
}

extension StateLayout {
    /// Where a node's hostPath volumes live: the node's own "host" filesystem root.
    public func nodeHostPath(_ node: String, _ path: String) -> String {
        nodeDir(node) + "/host" + (path.hasPrefix("/") ? path : "/" + path)
    }
}
