/// One generated Service as the local service proxy and DNS need it.
public struct RunService: Sendable, Equatable {
    public enum Kind: String, Sendable { case clusterIP, nodePort, headless }

    public struct Port: Sendable, Equatable {
        public var port: Int
        /// Where the backend listens; Kubernetes defaults targetPort to port.
        public var targetPort: Int
        public var nodePort: Int?
        public var proto: String

        public init(port: Int, targetPort: Int? = nil, nodePort: Int? = nil, proto: String = "TCP") {
            self.port = port
            self.targetPort = targetPort ?? port
            self.nodePort = nodePort
            self.proto = proto
        }
    }

    public var name: String
    /// The `name` label of the Deployment it selects.
    public var selector: String
    public var kind: Kind
    public var ports: [Port]

    public init(name: String, selector: String, kind: Kind, ports: [Port]) {
        self.name = name
        self.selector = selector
        self.kind = kind
        self.ports = ports
    }

    /// nil for non-Services and Services without a `name` selector (the suite has none).
    public init?(resource: Resource) throws {
        guard resource.kind == .service,
              let selector = resource.document.value(at: "spec", "selector", "name")?.stringValue else { return nil }
        let spec = resource.document["spec"]
        let kind: Kind
        if spec?["clusterIP"]?.stringValue == "None" {
            kind = .headless
        } else if spec?["type"]?.stringValue == "NodePort" {
            kind = .nodePort
        } else {
            kind = .clusterIP
        }
        var ports: [Port] = []
        for entry in spec?["ports"]?.arrayValue ?? [] {
            guard let port = entry["port"]?.looseIntValue else {
                throw ConnTestError("service \(resource.name): port entry without port")
            }
            // A named targetPort would need the container's port names; the suite never uses one.
            ports.append(Port(port: port, targetPort: entry["targetPort"]?.looseIntValue,
                              nodePort: entry["nodePort"]?.looseIntValue, proto: entry["protocol"]?.stringValue ?? "TCP"))
        }
        self.init(name: resource.name, selector: selector, kind: kind, ports: ports)
    }
}
