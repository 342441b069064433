/// Tag filters select objects the way upstream's cue does, so `-t component=policy` or
/// `-t name=pod-to-a-denied-cnp` leaves out the echo servers those checks probe. Applied to a
/// cluster that already runs the suite that is fine; for `conntest run`, which deploys a fresh
/// workload, a missing target turns an expected-deny check into a false pass (curl fails on DNS,
/// not on policy). So a run adds, from the unfiltered suite, every server a selected check probes
/// or is placed relative to (required pod affinity or anti-affinity), the servers those are placed
/// relative to, and the Services the probes name.
public enum ProbeTargetCompletion {
    public struct Completed: Sendable {
        public var resources: [Resource]
        /// "Deployment echo-a", "Service echo-a", in suite order.
        public var added: [String]
    }

    public static func complete(_ selected: [Resource], from suite: [Resource]) throws -> Completed {
        let full = try RunWorkload(resources: suite)
        let selectedKeys = Set(selected.map(key))
        let checks = full.checks.filter { selectedKeys.contains(key(.deployment, $0.name)) }

        var services: Set<String> = []
        var servers: Set<String> = []
        for check in checks {
            let probed = full.probedServices(of: check)
            services.formUnion(probed)
            servers.formUnion(probed.compactMap { full.serviceSelectors[$0] })
            servers.formUnion(serversPlaced(relativeTo: check, in: full))
        }
        // Servers placed next to other servers (echo-b-host follows echo-b), until nothing changes.
        var frontier = servers
        while !frontier.isEmpty {
            var next: Set<String> = []
            for name in frontier {
                guard let server = full.servers.first(where: { $0.name == name }) else { continue }
                next.formUnion(serversPlaced(relativeTo: server, in: full).subtracting(servers))
            }
            servers.formUnion(next)
            frontier = next
        }

        var wanted = Set(servers.map { key(.deployment, $0) }).union(services.map { key(.service, $0) })
        wanted.subtract(selectedKeys)
        guard !wanted.isEmpty else { return Completed(resources: selected, added: []) }
        let addedResources = suite.filter { wanted.remove(key($0)) != nil }  // first occurrence only
        let addedKeys = Set(addedResources.map(key))
        // Suite order when the selection came from this suite (scheduling follows file order).
        let resources = selectedKeys.isSubset(of: Set(suite.map(key)))
            ? suite.filter { selectedKeys.contains(key($0)) || addedKeys.contains(key($0)) }
            : selected + addedResources
        return Completed(resources: resources, added: addedResources.map { "\($0.kind.rawValue) \($0.name)" })
    }

    static func serversPlaced(relativeTo pod: WorkloadDeployment, in workload: RunWorkload) -> Set<String> {
        Set(workload.servers.filter { server in pod.affinity.contains { $0.matches(server.podLabels) } }.map(\.name))
    }

    private static func key(_ r: Resource) -> String { key(r.kind, r.name) }
    private static func key(_ kind: ResourceKind, _ name: String) -> String { "\(kind.rawValue)/\(name)" }
}
