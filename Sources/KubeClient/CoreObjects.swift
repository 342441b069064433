/// A core/v1 Event, the subset `kubectl describe` shows.
public struct KubeEvent: Codable, Sendable, Equatable {
    public struct InvolvedObject: Codable, Sendable, Equatable {
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?
        /// `spec.containers{name}` for container events.
        public var fieldPath: String?
    }

    public var metadata: ObjectMeta
    public var involvedObject: InvolvedObject
    public var reason: String?
    public var message: String?
    public var type: String?
    public var count: Int?
    public var firstTimestamp: String?
    public var lastTimestamp: String?

    /// The container a `spec.containers{c}` field path names.
    public var containerName: String? {
        guard let path = involvedObject.fieldPath, path.hasPrefix("spec.containers{"), path.hasSuffix("}") else { return nil }
        return String(path.dropFirst("spec.containers{".count).dropLast())
    }
}

/// A core/v1 Namespace.
public struct KubeNamespace: Codable, Sendable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Namespace"
    public var metadata: ObjectMeta
    public var status: Status?

    public struct Status: Codable, Sendable { public var phase: String? }

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// Any object, read for its metadata only.
public struct KubeObject: Codable, Sendable {
    public var metadata: ObjectMeta
    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// A core/v1 ConfigMap.
public struct KubeConfigMap: Codable, Sendable, Equatable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "ConfigMap"
    public var metadata: ObjectMeta
    public var data: [String: String]?

    public init(metadata: ObjectMeta, data: [String: String]) {
        self.metadata = metadata
        self.data = data
    }
}
