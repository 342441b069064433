/// Renders declarations into Kubernetes objects with the exact field order of
/// the upstream `cue dump` output.
public struct ManifestBuilder: Sendable {
    public static let probeFailureTimeout = 5
    /// Probe timeout leaves curl's connect timeout room to fail first.
    static let probeTimeoutSeconds = probeFailureTimeout + 2

    public let options: GeneratorOptions
    public let revision: SuiteRevision

    public init(options: GeneratorOptions, revision: SuiteRevision = .current) {
        self.options = options
        self.revision = revision
    }

    // MARK: metadata

    private func metadata(_ labels: ResourceLabels) -> YAMLNode {
        var pairs: [(String, YAMLNode)] = [("name", .string(labels.name))]
        if let namespace = options.namespace { pairs.append(("namespace", .string(namespace))) }
        pairs.append(("labels", labels.node))
        return .map(pairs)
    }

    // MARK: probes

    static func allowProbe(_ url: String) -> [String] {
        ["curl", "-sS", "--fail", "--connect-timeout", String(probeFailureTimeout), "-o", "/dev/null", url]
    }

    /// `-s` without `-S`: the failure is the expected outcome, no need to log it.
    static func denyProbe(_ target: String) -> [String] {
        ["ash", "-c", "! curl -s --fail --connect-timeout \(probeFailureTimeout) -o /dev/null \(target)/private"]
    }

    private static func probe(_ command: [String], timeout: Bool) -> YAMLNode {
        var pairs: [(String, YAMLNode)] = []
        if timeout { pairs.append(("timeoutSeconds", .int(probeTimeoutSeconds))) }
        pairs.append(("exec", .map([("command", strings(command))])))
        return .map(pairs)
    }

    func probeTarget(for check: ClientCheckDeclaration) -> String {
        switch check.target {
        case .echoBHostHeadlessHostPort: return "echo-b-host-headless:\(options.echoBHostPort)"
        case .echoBHostHeadlessNodePort: return "echo-b-host-headless:\(options.echoBNodePort)"
        case .echoCHostHeadlessHostPort: return "echo-c-host-headless:\(options.echoCHostPort)"
        case .externalIP: return options.externalIPURL
        case .externalFQDN: return options.externalFQDNValue
        case nil: return NameDrivenDefaults.probeTarget(for: check.name) ?? "localhost"
        }
    }

    // MARK: affinity

    private static func affinity(_ placement: NameDrivenDefaults.Placement) -> YAMLNode? {
        let (key, server): (String, String)
        switch placement {
        case .anywhere: return nil
        case .sameNode(let s): (key, server) = ("podAffinity", s)
        case .otherNode(let s): (key, server) = ("podAntiAffinity", s)
        }
        let term: YAMLNode = .map([
            ("labelSelector", .map([("matchExpressions", .seq([.map([
                ("key", .string("name")), ("operator", .string("In")), ("values", strings([server])),
            ])]))])),
            ("topologyKey", .string("kubernetes.io/hostname")),
        ])
        return .map([(key, .map([("requiredDuringSchedulingIgnoredDuringExecution", .seq([term]))]))])
    }

    // MARK: deployments

    private func deployment(labels: ResourceLabels, hostNetwork: Bool, containers: [YAMLNode],
                            placement: NameDrivenDefaults.Placement, dnsPolicy: String?) -> Resource {
        var podSpec: [(String, YAMLNode)] = [("hostNetwork", .bool(hostNetwork)), ("containers", .seq(containers))]
        if let affinity = Self.affinity(placement) { podSpec.append(("affinity", affinity)) }
        if let dnsPolicy { podSpec.append(("dnsPolicy", .string(dnsPolicy))) }
        return Self.deployment(labels: labels, metadata: metadata(labels), podSpec: .map(podSpec))
    }

    /// A one-replica Deployment whose pods carry `name: <labels.name>`, in the `cue dump` field order
    /// (also conntest's own checks, e.g. the cilium-health scenario).
    static func deployment(labels: ResourceLabels, metadata: YAMLNode, podSpec: YAMLNode) -> Resource {
        let name = labels.name
        let doc: YAMLNode = .map([
            ("metadata", metadata),
            ("spec", .map([
                ("template", .map([
                    ("metadata", .map([("labels", .map([("name", .string(name))]))])),
                    ("spec", podSpec),
                ])),
                ("selector", .map([("matchLabels", .map([("name", .string(name))]))])),
                ("replicas", .int(1)),
            ])),
            ("apiVersion", .string("apps/v1")),
            ("kind", .string("Deployment")),
        ])
        return Resource(kind: .deployment, name: name, labels: labels, document: doc)
    }

    func labels(for server: EchoServerDeclaration) -> ResourceLabels {
        ResourceLabels(name: server.name, component: server.component)
    }

    func listenPort(of server: EchoServerDeclaration) -> Int {
        switch server.exposure {
        case .pod(let port, _): return port
        case .hostNetwork(let port): return (revision.hostNetworkPorts[server.name] ?? port) + options.hostPortShift
        }
    }

    func hostPort(_ slot: EchoServerDeclaration.HostPortSlot) -> Int {
        slot == .echoB ? options.echoBHostPort : options.echoCHostPort
    }

    public func deployment(for server: EchoServerDeclaration) -> Resource {
        let port = listenPort(of: server)
        let ports: YAMLNode
        var hostNetwork = false
        switch server.exposure {
        case let .pod(containerPort, slot):
            var entry: [(String, YAMLNode)] = [("containerPort", .int(containerPort))]
            if let slot { entry.append(("hostPort", .int(hostPort(slot)))) }
            ports = .seq([.map(entry)])
        case .hostNetwork:
            hostNetwork = true
            ports = .seq([])
        }
        let probeCommand = Self.allowProbe("localhost:\(port)")
        let container: YAMLNode = .map([
            ("name", .string("\(server.name)-container")),
            // json-mock listens on $PORT (default 80).
            ("env", .seq([.map([("name", .string("PORT")), ("value", .string(String(port)))])])),
            ("ports", ports),
            ("image", .string(options.echoImage(default: revision.jsonMock))),
            ("imagePullPolicy", .string("IfNotPresent")),
            ("readinessProbe", Self.probe(probeCommand, timeout: true)),
            ("livenessProbe", Self.probe(probeCommand, timeout: true)),
        ])
        let placement: NameDrivenDefaults.Placement = server.colocateWith.map { .sameNode(as: $0) } ?? .anywhere
        return deployment(labels: labels(for: server), hostNetwork: hostNetwork, containers: [container],
                          placement: placement, dnsPolicy: nil)
    }

    func labels(for check: ClientCheckDeclaration) -> ResourceLabels {
        ResourceLabels(name: check.name, topology: NameDrivenDefaults.topology(for: check.name),
                       component: check.component, traffic: check.traffic,
                       quarantine: check.quarantine, type: check.type)
    }

    public func deployment(for check: ClientCheckDeclaration) -> Resource {
        let target = probeTarget(for: check)
        let image: String
        let command: [String]
        if let tool = check.tool {
            image = options.image(tool.image, override: nil)
            command = tool.command.map { $0.replacingOccurrences(of: ToolContainer.fqdnPlaceholder, with: options.externalFQDNValue) }
        } else {
            image = options.clientImage(default: revision.alpineCurl)
            command = ["/bin/ash", "-c", "sleep 1000000000"]
        }
        func container(_ suffix: String, probes: [(String, YAMLNode)]) -> YAMLNode {
            .map([
                ("name", .string("\(check.name)-\(suffix)")),
                ("ports", .seq([])),
                ("image", .string(image)),
                ("imagePullPolicy", .string("IfNotPresent")),
                ("command", strings(command)),
            ] + probes)
        }
        let allow = Self.allowProbe(target + check.path)
        let deny = Self.denyProbe(target)
        let containers: [YAMLNode]
        switch check.expectation {
        case .allow:
            containers = [container("container", probes: [
                ("readinessProbe", Self.probe(allow, timeout: true)), ("livenessProbe", Self.probe(allow, timeout: true)),
            ])]
        case .deny:
            containers = [container("container", probes: [
                ("readinessProbe", Self.probe(deny, timeout: true)), ("livenessProbe", Self.probe(deny, timeout: true)),
            ])]
        case .alwaysPass:
            containers = [container("container", probes: [
                ("readinessProbe", Self.probe(["true"], timeout: true)), ("livenessProbe", Self.probe(["true"], timeout: true)),
            ])]
        case .allowAndDeny:
            // Upstream leaves the allow container at the Kubernetes default timeout
            // and gives the reject container only a liveness probe, so a policy
            // leak shows up as restarts rather than NotReady.
            containers = [
                container("allow-container", probes: [
                    ("readinessProbe", Self.probe(allow, timeout: false)), ("livenessProbe", Self.probe(allow, timeout: false)),
                ]),
                container("reject-container", probes: [("livenessProbe", Self.probe(deny, timeout: true))]),
            ]
        }
        return deployment(labels: labels(for: check), hostNetwork: check.hostNetwork, containers: containers,
                          placement: NameDrivenDefaults.placement(for: check.name),
                          dnsPolicy: check.hostNetwork ? "ClusterFirstWithHostNet" : nil)
    }

    // MARK: services

    private func service(labels: ResourceLabels, ports: YAMLNode, type: String, selector: String, headless: Bool) -> Resource {
        var spec: [(String, YAMLNode)] = [
            ("ports", ports), ("type", .string(type)), ("selector", .map([("name", .string(selector))])),
        ]
        if headless { spec.append(("clusterIP", .string("None"))) }
        let doc: YAMLNode = .map([
            ("metadata", metadata(labels)), ("spec", .map(spec)),
            ("apiVersion", .string("v1")), ("kind", .string("Service")),
        ])
        return Resource(kind: .service, name: labels.name, labels: labels, document: doc)
    }

    private func servicePorts(of server: EchoServerDeclaration) -> [[(String, YAMLNode)]] {
        guard case let .pod(port, _) = server.exposure else { return [] }
        return [[("name", .string("http")), ("port", .int(port))]]
    }

    /// The ClusterIP or NodePort Service of `server`, if it has one.
    public func frontService(for server: EchoServerDeclaration) -> Resource? {
        guard server.clusterIPService || server.nodePortService else { return nil }
        let ports = servicePorts(of: server).map { entry -> YAMLNode in
            server.nodePortService ? .map(entry + [("nodePort", .int(options.echoBNodePort))]) : .map(entry)
        }
        return service(labels: labels(for: server), ports: .seq(ports), type: server.nodePortService ? "NodePort" : "ClusterIP",
                       selector: server.name, headless: false)
    }

    /// `<server>-headless`, if `server` has one.
    public func headlessService(for server: EchoServerDeclaration) -> Resource? {
        guard server.headlessService else { return nil }
        return service(labels: labels(for: server).renamed("\(server.name)-headless", topology: .any),
                       ports: .seq(servicePorts(of: server).map { .map($0) }), type: "ClusterIP",
                       selector: server.name, headless: true)
    }

    // MARK: policies

    private func ciliumPolicy(labels: ResourceLabels, selecting: String, direction: String, rules: [YAMLNode]) -> Resource {
        let doc: YAMLNode = .map([
            ("metadata", metadata(labels)),
            ("spec", .map([
                ("endpointSelector", .map([("matchLabels", .map([("name", .string(selecting))]))])),
                (direction, .seq(rules)),
            ])),
            ("apiVersion", .string("cilium.io/v2")),
            ("kind", .string("CiliumNetworkPolicy")),
        ])
        return Resource(kind: .ciliumNetworkPolicy, name: labels.name, labels: labels, document: doc)
    }

    /// nil when the policy names a check that is not declared.
    public func policy(for declaration: EgressPolicyDeclaration) -> Resource? {
        guard let check = ConnectivitySuite.clientChecks.first(where: { $0.name == declaration.check }) else { return nil }
        let visibility = declaration.dnsVisibility || declaration.rules.contains { !$0.toFQDNs.isEmpty }
        var rules = declaration.rules
        if declaration.allowDNS { rules += EgressRule.dnsRules(visibility: visibility) }
        return ciliumPolicy(labels: labels(for: check), selecting: check.name, direction: "egress", rules: rules.map(\.node))
    }

    public func policy(for declaration: IngressPolicyDeclaration) -> Resource? {
        guard let server = ConnectivitySuite.echoServers.first(where: { $0.name == declaration.server }) else { return nil }
        let rules: [YAMLNode] = [.map([("toPorts", .seq(declaration.rules.map(\.node)))])]
        return ciliumPolicy(labels: labels(for: server), selecting: server.name, direction: "ingress", rules: rules)
    }
}
