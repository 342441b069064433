import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The node agent's kubelet duty toward its Node object: register it (addresses of both
/// families, podCIDRs, hostname label), post its status with the four node conditions, and renew
/// its Lease in `kube-node-lease` so the node lifecycle controller keeps it Ready. An unreachable
/// apiserver is retried on the next beat; the node's pods and datapath never depend on it.
struct NodeRegistration: Service {
    let client: KubeClient
    let node: ClusterSpec.NodeSpec
    let kube: ClusterSpec.KubernetesSpec
    let clusterName: String
    /// Announce the agent's own health endpoint in the Node's annotations (not when DaemonSets run it).
    var healthAnnotations = true
    let logger: Logger
    /// A full status post this often (kubelet's nodeStatusReportFrequency is 5 min; this is a small cluster).
    var statusEvery: Duration = .seconds(10)

    func run() async throws {
        await cancelWhenGracefulShutdown { await beat() }
        await client.shutdown()
    }

    private var nodePath: String { "/api/v1/nodes/\(node.name)" }
    private var leasePath: String { "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/\(node.name)" }

    private func beat() async {
        var state = BeatState()
        let since = KubeTime.time(Date())
        while !Task.isCancelled {
            do {
                if state.nodeUID == nil {
                    state.nodeUID = try await register()
                    state.lastStatus = nil
                    logger.info("registered node with the apiserver", metadata: ["node": "\(node.name)"])
                }
                if state.lastStatus.map({ ContinuousClock.now - $0 >= statusEvery }) ?? true {
                    try await postStatus(since: since)
                    state.lastStatus = .now
                }
                state.lease = try await renew(state.lease, ownerUID: state.nodeUID ?? "")
                state.reportRecovered(logger)
            } catch let e as KubeAPIError where e.isNotFound && e.path == nodePath + "/status" {
                state.nodeUID = nil  // someone deleted our Node: register again, as kubelet does
            } catch {
                state.reportFailure(error, logger)
            }
            try? await Task.sleep(for: .seconds(kube.leaseRenewSeconds))
        }
    }

    private struct BeatState {
        var nodeUID: String?
        var lastStatus: ContinuousClock.Instant?
        var lease: Lease?
        var failing: String?

        /// One log line per distinct failure, not one per beat.
        mutating func reportFailure(_ error: any Error, _ logger: Logger) {
            let text = "\(error)"
            if failing != text { logger.warning("apiserver heartbeat failed: \(text)") }
            failing = text
            lease = nil
        }

        mutating func reportRecovered(_ logger: Logger) {
            if failing != nil { logger.info("apiserver heartbeat recovered") }
            failing = nil
        }
    }

    /// Creates the Node (or finds it there from an earlier life) and returns its uid.
    private func register() async throws -> String {
        let labels = ["kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux",
                      "kubernetes.io/arch": NodeFacts.architecture, "nethealth.io/cluster": clusterName]
        let cidrs = [node.podCIDRv4] + (node.podCIDRv6.map { [$0] } ?? [])
        // Cilium's health-IP annotations: how peers' agents learn this node's health endpoint.
        var annotations: [String: String] = [:]
        if healthAnnotations {
            annotations[KubernetesNodes.healthIPv4Annotation] = node.healthIPv4
            if let v6 = node.healthIPv6 { annotations[KubernetesNodes.healthIPv6Annotation] = v6 }
        }
        let object = Node(metadata: ObjectMeta(name: node.name, labels: labels, annotations: annotations),
                          spec: Node.Spec(podCIDR: node.podCIDRv4, podCIDRs: cidrs))
        do {
            try await client.create("/api/v1/nodes", object)
        } catch let e as KubeAPIError where e.isAlreadyExists {}
        let current = try await client.get(nodePath, as: Node.self)
        return current.metadata.uid ?? ""
    }

    private func postStatus(since: String) async throws {
        let now = KubeTime.time(Date())
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> Node.Condition {
            Node.Condition(type: type, status: status, reason: reason, message: message,
                           lastHeartbeatTime: now, lastTransitionTime: since)
        }
        var addresses = [Node.Address(type: "InternalIP", address: node.ipv4)]
        if let v6 = node.ipv6 { addresses.append(Node.Address(type: "InternalIP", address: v6)) }
        addresses.append(Node.Address(type: "Hostname", address: node.name))
        let resources = NodeFacts.resources
        let status = Node.Status(
            conditions: [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            addresses: addresses, capacity: resources, allocatable: resources, nodeInfo: NodeFacts.info(kube.version))
        struct Patch: Encodable { var status: Node.Status }
        try await client.mergePatch(nodePath + "/status", Patch(status: status))
    }

    /// Renews the lease (creating it when absent); on a conflict the next beat starts from a fresh read.
    private func renew(_ known: Lease?, ownerUID: String) async throws -> Lease {
        var lease: Lease
        if let known {
            lease = known
        } else {
            do {
                lease = try await client.get(leasePath, as: Lease.self)
            } catch let e as KubeAPIError where e.isNotFound {
                let owner = OwnerReference(apiVersion: "v1", kind: "Node", name: node.name, uid: ownerUID)
                lease = Lease(metadata: ObjectMeta(name: node.name, namespace: "kube-node-lease", ownerReferences: [owner]),
                              spec: .init(holderIdentity: node.name, leaseDurationSeconds: kube.leaseDurationSeconds,
                                          renewTime: KubeTime.microTime(Date())))
                let created = try await client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease)
                return try KubeClient.decode(Lease.self, created, path: leasePath)
            }
        }
        lease.spec.holderIdentity = node.name
        lease.spec.leaseDurationSeconds = kube.leaseDurationSeconds
        lease.spec.renewTime = KubeTime.microTime(Date())
        let replaced = try await client.replace(leasePath, lease)
        return try KubeClient.decode(Lease.self, replaced, path: leasePath)
    }
}

/// What a node reports about the machine it runs on.
enum NodeFacts {
    static var architecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }

    static var resources: [String: String] {
        let memKiB = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?
            .split(separator: " ").dropFirst().first.map(String.init) ?? "0"
        return ["cpu": "\(ProcessInfo.processInfo.activeProcessorCount)", "memory": "\(memKiB)Ki", "pods": "110"]
    }

    static func info(_ version: String) -> Node.NodeInfo {
        var uts = utsname()
        uname(&uts)
        let kernel = withUnsafePointer(to: &uts.release) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
        let osImage = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        return Node.NodeInfo(kernelVersion: kernel, osImage: osImage, containerRuntimeVersion: "nethealth://0.1.0",
                             kubeletVersion: "v\(version)-nethealth", kubeProxyVersion: "v\(version)-nethealth",
                             architecture: architecture)
    }
}
