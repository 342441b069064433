import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The node agent as its node's policy datapath (Cilium's policy engine for one node): every
/// second it lists CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies, NetworkPolicies,
/// Namespaces, Pods, Services and Endpoints, compiles them (`NodePolicyPlan`) and programs the
/// node's pod veths (`PolicyDatapath`). Policies it cannot enforce get a Warning Event once per
/// revision. With the apiserver gone the datapath keeps what it has, as Cilium's does.
struct PolicyRole: Service {
    let client: KubeClient
    let spec: ClusterSpec
    let node: ClusterSpec.NodeSpec
    let datapath: PolicyDatapath
    let logger: Logger

    func run() async throws {
        let events = EventRecorder(client: client, host: node.name, component: "nethealth-agent", logger: logger)
        await cancelWhenGracefulShutdown {
            guard datapath.isLoaded else {
                // Nothing to program; the reason is in GET /v1/policy and was logged once.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                return
            }
            var reported: Set<String> = []
            await SyncLoop.run("policy", every: .seconds(1), logger: logger) {
                let plan = try await self.plan()
                try datapath.apply(plan.endpoints, names: plan.names, notes: plan.notes)
                for item in plan.unenforced {
                    let key = "\(item.metadata.uid ?? "")/\(item.metadata.resourceVersion ?? "")"
                    guard reported.insert(key).inserted else { continue }
                    logger.warning("policy: \(item.kind.rawValue) \(item.metadata.namespace.map { "\($0)/" } ?? "")\(item.metadata.name ?? ""): \(item.reason)")
                    let object = EventRecorder.Object(apiVersion: item.kind.apiVersion, kind: item.kind.rawValue,
                                                      namespace: item.metadata.namespace, name: item.metadata.name ?? "",
                                                      uid: item.metadata.uid ?? "")
                    await events.record(object, reason: item.eventReason, message: "\(node.name): \(item.reason)")
                }
            }
        }
        await datapath.shutdown()
    }

    private func plan() async throws -> NodePolicyPlan {
        async let cnps = client.get("/apis/cilium.io/v2/ciliumnetworkpolicies", as: ObjectList<PolicyObject>.self)
        async let ccnps = client.get("/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", as: ObjectList<PolicyObject>.self)
        async let nps = client.get("/apis/networking.k8s.io/v1/networkpolicies", as: ObjectList<PolicyObject>.self)
        async let namespaces = client.get("/api/v1/namespaces", as: ObjectList<NamespaceObject>.self)
        async let pods = client.get("/api/v1/pods", as: ObjectList<Pod>.self)
        async let services = client.get("/api/v1/services", as: ObjectList<KubeService>.self)
        async let endpoints = client.get("/api/v1/endpoints", as: ObjectList<Endpoints>.self)
        let policies = try await cnps.items.map { (NodePolicyPlan.Kind.cnp, $0) }
            + ccnps.items.map { (NodePolicyPlan.Kind.ccnp, $0) } + nps.items.map { (NodePolicyPlan.Kind.networkPolicy, $0) }
        return try await NodePolicyPlan(node: node, nodes: spec.nodes, policies: policies, namespaces: namespaces.items,
                                        pods: pods.items, services: services.items, serviceEndpoints: endpoints.items)
    }
}
