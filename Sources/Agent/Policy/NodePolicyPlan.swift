import ConnTest
import Foundation
import KubeClient

/// A policy object from the API: its metadata and the whole document for the parsers.
struct PolicyObject: Decodable, Sendable {
    var metadata: ObjectMeta
    var document: YAMLNode

    private enum Keys: String, CodingKey { case metadata }

    init(from decoder: any Decoder) throws {
        metadata = try decoder.container(keyedBy: Keys.self).decode(ObjectMeta.self, forKey: .metadata)
        document = try YAMLNode(from: decoder)
    }
}

/// A Namespace's name and labels (for NetworkPolicy namespaceSelector and CNP namespace labels).
struct NamespaceObject: Decodable, Sendable {
    var metadata: ObjectMeta
}

/// What one node's datapath must hold, computed from API objects (pure: no BPF, no namespaces).
///
/// Every pod of the cluster is a peer (plus the per-node DNS replicas, which policies see as
/// CoreDNS: `kube-system`, `k8s-app: kube-dns`); the non-hostNetwork pods bound to `node` are its
/// endpoints. A policy the parsers reject is not enforced. A pod selected in a direction by a
/// policy with rules the L3/L4 datapath cannot enforce (L7, FQDN, CIDR, entities…) is left open in
/// that direction rather than closed: the check it belongs to then fails or passes on its own
/// merits instead of failing on a rule we dropped; `notes` and `unenforceable` say so.
struct NodePolicyPlan {
    enum Kind: String, Sendable {
        case cnp = "CiliumNetworkPolicy"
        case ccnp = "CiliumClusterwideNetworkPolicy"
        case networkPolicy = "NetworkPolicy"

        var apiVersion: String { self == .networkPolicy ? "networking.k8s.io/v1" : "cilium.io/v2" }
    }

    /// A policy that is (partly) not enforced, for its Event.
    struct Unenforced: Sendable {
        var kind: Kind
        var metadata: ObjectMeta
        var reason: String
        /// `InvalidPolicy` (rejected) or `PolicyNotEnforced` (unsupported rules).
        var eventReason: String
    }

    var endpoints: [DesiredEndpoint] = []
    var names = DropNames()
    var notes: [String] = []
    var unenforced: [Unenforced] = []

    init(node: ClusterSpec.NodeSpec, nodes: [ClusterSpec.NodeSpec], policies: [(Kind, PolicyObject)],
         namespaces: [NamespaceObject], pods: [Pod], services: [KubeService], serviceEndpoints: [Endpoints]) throws {
        var documents: [PolicyDocument] = []
        for (kind, object) in policies {
            let name = object.metadata.name ?? ""
            let label = "\(kind.rawValue) \(object.metadata.namespace.map { "\($0)/" } ?? "")\(name)"
            do {
                let doc: PolicyDocument = switch kind {
                case .cnp: try PolicyDocument(resource: Resource(kind: .ciliumNetworkPolicy, name: name, labels: nil,
                                                                 document: object.document))!
                case .networkPolicy: try PolicyDocument(resource: Resource(kind: .networkPolicy, name: name, labels: nil,
                                                                           document: object.document))!
                case .ccnp: try PolicyDocument.clusterwide(object.document, policy: name)
                }
                documents.append(doc)
                let restricting = doc.unsupported.filter(\.restrictsTraffic)
                if !restricting.isEmpty {
                    let fields = restricting.map(\.description).joined(separator: ", ")
                    let directions = Set(restricting.map { $0.direction?.rawValue ?? "egress and ingress" }).sorted()
                    let reason = "not enforced by the local L3/L4 datapath: \(fields); the pods it selects stay open in "
                        + directions.joined(separator: " and ")
                    notes.append("\(label): \(reason)")
                    unenforced.append(Unenforced(kind: kind, metadata: object.metadata, reason: reason, eventReason: "PolicyNotEnforced"))
                }
            } catch {
                notes.append("\(label): invalid, not enforced: \(error)")
                unenforced.append(Unenforced(kind: kind, metadata: object.metadata, reason: "invalid, not enforced: \(error)",
                                             eventReason: "InvalidPolicy"))
            }
        }

        var peers: [PolicyPod] = []
        var taken: Set<String> = []
        for pod in pods {
            guard let name = pod.metadata.name else { continue }
            let ns = pod.metadata.namespace ?? "default"
            taken.insert("\(ns)/\(name)")
            let hostNetwork = pod.spec.hostNetwork == true
            peers.append(PolicyPod(name: name, namespace: ns, labels: pod.metadata.labels ?? [:],
                                   ipv4: pod.status?.podIP, ipv6: pod.ipv6, hostNetwork: hostNetwork))
            for ip in [pod.status?.podIP, pod.ipv6].compactMap({ $0 }) where !hostNetwork { names.pods[ip] = "\(ns)/\(name)" }
        }
        for n in nodes {
            let replica = ServiceRole.dnsPod(n)
            guard !taken.contains("\(ClusterDNS.policyNamespace)/\(replica)") else { continue }
            peers.append(PolicyPod(name: replica, namespace: ClusterDNS.policyNamespace, labels: ClusterDNS.policyLabels,
                                   ipv4: ServiceRole.dnsIP(n), ipv6: n.podIPv6(host: 4)))
            for ip in [ServiceRole.dnsIP(n), n.podIPv6(host: 4)].compactMap({ $0 }) {
                names.pods[ip] = "\(ClusterDNS.policyNamespace)/\(replica)"
            }
        }
        var namespaceLabels: [String: [String: String]] = [:]
        for ns in namespaces { if let name = ns.metadata.name { namespaceLabels[name] = ns.metadata.labels ?? [:] } }
        let compiled = try PolicyCompiler.compile(policies: documents, pods: peers, namespaceLabels: namespaceLabels)

        let view = ServiceView(services: services, endpoints: serviceEndpoints)
        for svc in services {
            guard let ip = svc.spec.clusterIP, ip != "None", let name = svc.metadata.name else { continue }
            names.services[ip] = "\(svc.metadata.namespace ?? "default")/\(name)"
        }
        let paths = ServicePaths(rulesByNode: Dictionary(uniqueKeysWithValues: nodes.map { n in
            (n.name, view.rules(on: n, pods: pods.filter { $0.spec.nodeName == n.name }))
        }))

        for pod in pods where pod.spec.nodeName == node.name && pod.spec.hostNetwork != true && !pod.metadata.isDeleting {
            guard let name = pod.metadata.name, let uid = pod.metadata.uid else { continue }
            let ns = pod.metadata.namespace ?? "default"
            let policy = compiled.pod(name, namespace: ns)
            var egress = policy?.egressEnforced ?? false, ingress = policy?.ingressEnforced ?? false
            var rules = policy?.rules ?? []
            for direction in [PolicyFacts.Direction.egress, .ingress] {
                let selecting = direction == .egress ? policy?.egressPolicies ?? [] : policy?.ingressPolicies ?? []
                // Policies name their subjects only (no namespace): a same-named policy of another kind
                // in the namespace counts too, which can only open more, never close.
                let blocking = documents.filter { doc in
                    selecting.contains(doc.name) && (doc.clusterwide || doc.namespace == ns)
                        && doc.unsupported.contains { $0.restrictsTraffic && ($0.direction == nil || $0.direction == direction) }
                }
                guard !blocking.isEmpty else { continue }
                if direction == .egress { egress = false } else { ingress = false }
                rules.removeAll { $0.direction == direction }
                notes.append("pod \(ns)/\(name): \(direction.rawValue) not enforced (unsupported rules in "
                             + blocking.map(\.name).joined(separator: ", ") + ")")
            }
            endpoints.append(DesiredEndpoint(
                uid: uid, pod: "\(ns)/\(name)", hostInterface: PodNetwork.hostInterface(pod: "\(ns)/\(name)"),
                ipv4: pod.status?.podIP, ipv6: pod.ipv6, egressEnforced: egress, ingressEnforced: ingress,
                rules: egress || ingress ? paths.expand(rules) : [],
                egressPolicies: policy?.egressPolicies ?? [], ingressPolicies: policy?.ingressPolicies ?? []))
        }
    }
}
