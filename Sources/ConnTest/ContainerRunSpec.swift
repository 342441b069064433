/// One container of a Deployment, reduced to what the local runner starts and probes.
public struct ContainerRunSpec: Sendable, Equatable {
    public struct Port: Sendable, Equatable, Hashable {
        public var containerPort: Int
        public var hostPort: Int?
        public var proto: String

        public init(containerPort: Int, hostPort: Int? = nil, proto: String = "TCP") {
            self.containerPort = containerPort
            self.hostPort = hostPort
            self.proto = proto
        }
    }

    public var name: String
    /// Main process argv (nil: the image's entrypoint, e.g. json-mock).
    public var command: [String]?
    public var env: [String: String]
    public var ports: [Port]
    public var readinessProbe: ProbeSpec?
    public var livenessProbe: ProbeSpec?

    public init(name: String, command: [String]? = nil, env: [String: String] = [:], ports: [Port] = [],
                readinessProbe: ProbeSpec? = nil, livenessProbe: ProbeSpec? = nil) {
        self.name = name
        self.command = command
        self.env = env
        self.ports = ports
        self.readinessProbe = readinessProbe
        self.livenessProbe = livenessProbe
    }

    /// json-mock listens on $PORT; host-network echo servers declare no ports at all.
    public var listenPort: Int? { env["PORT"].flatMap { Int($0) } }

    public init(node: YAMLNode, deployment: String) throws {
        guard let name = node["name"]?.stringValue, !name.isEmpty else {
            throw ConnTestError("deployment \(deployment): container without a name")
        }
        let context = "deployment \(deployment) container \(name)"
        var env: [String: String] = [:]
        for entry in node["env"]?.arrayValue ?? [] {
            if let key = entry["name"]?.stringValue { env[key] = entry["value"]?.stringValue ?? "" }
        }
        var ports: [Port] = []
        for entry in node["ports"]?.arrayValue ?? [] {
            guard let port = entry["containerPort"]?.looseIntValue else {
                throw ConnTestError("\(context): port entry without containerPort")
            }
            ports.append(Port(containerPort: port, hostPort: entry["hostPort"]?.looseIntValue,
                              proto: entry["protocol"]?.stringValue ?? "TCP"))
        }
        let command = node["command"]?.arrayValue.map { $0.compactMap(\.stringValue) }
        self.init(name: name, command: command, env: env, ports: ports,
                  readinessProbe: try node["readinessProbe"].map { try ProbeSpec(node: $0, context: "\(context) readinessProbe") },
                  livenessProbe: try node["livenessProbe"].map { try ProbeSpec(node: $0, context: "\(context) livenessProbe") })
    }
}
