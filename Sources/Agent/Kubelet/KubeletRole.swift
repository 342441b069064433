import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The node agent as its node's kubelet: every second it lists the Pods bound to this node, starts
/// a `PodWorker` for each new one, stops the workers of pods that are gone, and finishes the
/// deletion of pods marked for deletion (stop, clean up, then delete with grace 0, as kubelet does).
/// Pod IPs come from the node's podCIDR, .100 to .250 (conntest's own pods use .10 upward).
struct KubeletRole: Service {
    let client: KubeClient
    let node: ClusterSpec.NodeSpec
    let layout: StateLayout
    let logger: Logger

    static let firstHost = 100
    static let lastHost = 250

    func run() async throws {
        let state = KubeletState()
        let events = EventRecorder(client: client, host: node.name, logger: logger)
        await cancelWhenGracefulShutdown {
            await SyncLoop.run("kubelet", every: .seconds(1), logger: logger) { try await sync(state, events) }
        }
        // As kubelet on restart: running pods are left as they are (the next agent rebuilds them).
    }

    private func sync(_ state: KubeletState, _ events: EventRecorder) async throws {
        let selector = "spec.nodeName%3D\(node.name)"
        let pods = try await client.get("/api/v1/pods?fieldSelector=\(selector)", as: ObjectList<Pod>.self).items
        let live = Set(pods.compactMap(\.metadata.uid))
        for (uid, worker) in await state.workers where !live.contains(uid) {
            await worker.stop()
            await state.remove(uid)
        }
        for pod in pods {
            guard let uid = pod.metadata.uid, let name = pod.metadata.name else { continue }
            let ns = pod.metadata.namespace ?? "default"
            if pod.metadata.isDeleting {
                if let worker = await state.workers[uid] {
                    await worker.stop()
                    await state.remove(uid)
                }
                await finishDeletion(ns: ns, name: name, uid: uid)
                continue
            }
            guard await state.workers[uid] == nil else { continue }
            let ip: String
            var ipv6: String?
            if pod.spec.hostNetwork == true {
                ip = node.ipv4
                ipv6 = node.ipv6
            } else {
                guard let host = await state.allocate(uid: uid, node: node, preferred: pod.status?.podIP) else {
                    await events.record(pod, container: nil, reason: "FailedCreatePodSandBox",
                                        message: "no free pod IP in \(node.podCIDRv4) (.\(Self.firstHost)-.\(Self.lastHost))")
                    continue
                }
                // Dual-stack nodes give each pod one address per family, with the same host part.
                ip = node.podIPv4(host: host)
                ipv6 = node.podIPv6(host: host)
            }
            let worker = PodWorker(pod: pod, ip: ip, ipv6: ipv6, node: node, layout: layout, client: client, events: events, logger: logger)
            await state.add(uid, worker)
            await worker.start(trustedCA: try? await SimulatedInternet.fetch(client)?.caPEM)
            logger.info("kubelet: started pod \(ns)/\(name) at \(ip)")
        }
    }

    private func finishDeletion(ns: String, name: String, uid: String) async {
        let body = #"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"preconditions":{"uid":"\#(uid)"}}"#
        do {
            try await client.request(.DELETE, "/api/v1/namespaces/\(ns)/pods/\(name)", body: Data(body.utf8))
        } catch let e as KubeAPIError where e.isNotFound || e.isConflict {
            // already gone, or a new pod of the same name
        } catch {
            logger.warning("kubelet: cannot finish deleting \(ns)/\(name): \(error)")
        }
    }
}

/// The kubelet role's mutable state: running workers and the pod IPs they hold.
actor KubeletState {
    private(set) var workers: [String: PodWorker] = [:]
    private var ips: [String: Int] = [:]

    func add(_ uid: String, _ worker: PodWorker) { workers[uid] = worker }

    func remove(_ uid: String) {
        workers[uid] = nil
        ips[uid] = nil
    }

    /// The lowest free host number in the node's range, or the pod's earlier one when it is still free.
    func allocate(uid: String, node: ClusterSpec.NodeSpec, preferred: String?) -> Int? {
        let used = Set(ips.values)
        if let preferred, preferred.hasPrefix(node.podPrefixV4), let host = Int(preferred.dropFirst(node.podPrefixV4.count)),
           (KubeletRole.firstHost...KubeletRole.lastHost).contains(host), !used.contains(host) {
            ips[uid] = host
            return host
        }
        guard let host = (KubeletRole.firstHost...KubeletRole.lastHost).first(where: { !used.contains($0) }) else { return nil }
        ips[uid] = host
        return host
    }
}
