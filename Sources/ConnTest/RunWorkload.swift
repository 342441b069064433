/// The generated objects regrouped for running: echo servers, checks, and the
/// service/policy facts used to decide what can run locally.
public struct RunWorkload: Sendable {
    public var servers: [WorkloadDeployment]
    public var checks: [WorkloadDeployment]
    /// Service name -> the `name` label it selects.
    public var serviceSelectors: [String: String]
    public var policies: [PolicyFacts]
    /// Services in file order (duplicates dropped, as kubectl apply keeps one).
    public var services: [RunService]

    public init(servers: [WorkloadDeployment], checks: [WorkloadDeployment],
                serviceSelectors: [String: String] = [:], policies: [PolicyFacts] = [], services: [RunService] = []) {
        self.servers = servers
        self.checks = checks
        self.serviceSelectors = serviceSelectors
        self.policies = policies
        self.services = services
    }

    /// A Deployment is a server when some Service selects it; everything else is a
    /// check (the suite's clients are never behind a Service). Order is preserved.
    public init(resources: [Resource]) throws {
        var selectors: [String: String] = [:]
        for r in resources where r.kind == .service {
            if let target = r.document.value(at: "spec", "selector", "name")?.stringValue { selectors[r.name] = target }
        }
        let served = Set(selectors.values)
        var servers: [WorkloadDeployment] = []
        var checks: [WorkloadDeployment] = []
        var seen: Set<String> = []
        for r in resources where r.kind == .deployment {
            // The netpol-only file repeats some deployments; kubectl apply keeps one.
            guard seen.insert(r.name).inserted else { continue }
            if served.contains(r.name) {
                servers.append(try WorkloadDeployment(resource: r, role: .server))
            } else {
                checks.append(try WorkloadDeployment(resource: r, role: .check))
            }
        }
        var services: [RunService] = []
        for r in resources where r.kind == .service && !services.contains(where: { $0.name == r.name }) {
            if let s = try RunService(resource: r) { services.append(s) }
        }
        self.init(servers: servers, checks: checks, serviceSelectors: selectors,
                  policies: resources.compactMap(PolicyFacts.init(resource:)), services: services)
    }

    public var all: [WorkloadDeployment] { servers + checks }

    /// Deployment names a check's probes reach, via the Service named in each probe URL.
    public func probeTargets(of check: WorkloadDeployment) -> Set<String> {
        Set(probedServices(of: check).compactMap { serviceSelectors[$0] })
    }

    /// Names of this workload's Services that appear as the host of a URL in the check's probes.
    public func probedServices(of check: WorkloadDeployment) -> Set<String> {
        var names: Set<String> = []
        for container in check.containers {
            for probe in [container.readinessProbe, container.livenessProbe].compactMap({ $0 }) {
                for word in probe.command.flatMap({ $0.split(separator: " ") }) {
                    if let host = Self.host(ofURLish: String(word)), serviceSelectors[host] != nil {
                        names.insert(host)
                    }
                }
            }
        }
        return names
    }

    /// Whether one of the check's probes targets `port` (`host:port` in a probe URL), e.g. a NodePort.
    public func probesPort(of check: WorkloadDeployment, _ port: Int) -> Bool {
        check.containers.contains { container in
            [container.readinessProbe, container.livenessProbe].compactMap { $0 }.contains { probe in
                probe.command.flatMap { $0.split(separator: " ") }.contains { $0.contains(":\(port)/") || $0.hasSuffix(":\(port)") }
            }
        }
    }

    /// `https://x:1/p` or `x:8080/public` -> `x`; nil for words that are not host-ish.
    static func host(ofURLish word: String) -> String? {
        var rest = Substring(word)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let host = rest.prefix { $0 != ":" && $0 != "/" }
        return host.isEmpty || host.hasPrefix("-") ? nil : String(host)
    }
}
