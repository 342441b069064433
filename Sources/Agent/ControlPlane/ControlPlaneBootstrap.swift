import Foundation
import KubeClient

/// What `cluster up` installs once the apiserver answers: Cilium's policy CRDs (so the
/// connectivity-check manifests apply as they do on a Cilium cluster) and the node agents' RBAC
/// for the proxy, DNS and policy roles, which the Node authorizer does not grant.
struct ControlPlaneBootstrap {
    let client: KubeClient

    func install() async throws {
        for (plural, kind, scope, short) in [
            ("ciliumnetworkpolicies", "CiliumNetworkPolicy", "Namespaced", "cnp"),
            ("ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", "Cluster", "ccnp"),
        ] {
            try await createIfAbsent("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                     Self.crd(plural: plural, kind: kind, scope: scope, shortName: short))
        }
        try await createIfAbsent("/apis/rbac.authorization.k8s.io/v1/clusterroles", Self.nodeAgentRole)
        try await createIfAbsent("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Self.nodeAgentBinding)
        try await waitEstablished(["ciliumnetworkpolicies.cilium.io", "ciliumclusterwidenetworkpolicies.cilium.io"])
    }

    private func createIfAbsent(_ collection: String, _ object: [String: Any]) async throws {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        do {
            try await client.request(.POST, collection, body: body)
        } catch let e as KubeAPIError where e.isAlreadyExists {
            return
        }
    }

    /// `kubectl apply` of a CNP fails with "no matches for kind" until discovery lists the CRD.
    private func waitEstablished(_ names: [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        for name in names {
            while true {
                struct CRD: Decodable {
                    struct Status: Decodable { var conditions: [Cond]? }
                    struct Cond: Decodable { var type: String; var status: String }
                    var status: Status?
                }
                let crd = try? await client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/\(name)", as: CRD.self)
                if crd?.status?.conditions?.contains(where: { $0.type == "Established" && $0.status == "True" }) == true { break }
                guard ContinuousClock.now < deadline else { throw AgentError("CRD \(name) not established within 20s") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func crd(plural: String, kind: String, scope: String, shortName: String) -> [String: Any] {
        let schema: [String: Any] = ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": "\(plural).cilium.io"],
            "spec": [
                "group": "cilium.io", "scope": scope,
                "names": ["plural": plural, "singular": kind.lowercased(), "kind": kind, "listKind": kind + "List",
                          "shortNames": [shortName], "categories": ["cilium", "ciliumpolicy"]],
                "versions": [["name": "v2", "served": true, "storage": true, "schema": schema,
                              "subresources": ["status": [String: Any]()]]],
            ] as [String: Any],
        ]
    }

    static let nodeAgentRoleName = "nethealth:node-agent"

    static var nodeAgentRole: [String: Any] { [
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": ["name": nodeAgentRoleName],
        "rules": [
            ["apiGroups": [""], "resources": ["services", "endpoints", "pods", "namespaces", "nodes", "configmaps"],
             "verbs": ["get", "list", "watch"]],
            ["apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]],
            ["apiGroups": ["cilium.io"], "resources": ["ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"],
             "verbs": ["get", "list", "watch"]],
            ["apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]],
        ] as [[String: Any]],
    ] }

    static var nodeAgentBinding: [String: Any] { [
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": ["name": nodeAgentRoleName],
        "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": nodeAgentRoleName],
        "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"]],
    ] }
}
