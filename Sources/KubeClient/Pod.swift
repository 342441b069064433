import Foundation

/// v1 Pod, the fields a node runs and reports.
public struct Pod: Codable, Sendable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?


    /// The pod's IPv6 address on a dual-stack node (`status.podIPs`, second family).
    public var ipv6: String? { status?.podIPs?.map(\.ip).first { $0.contains(":") } }

    public struct Spec: Codable, Sendable {
        public var nodeName: String?
        public var hostNetwork: Bool?
        public var dnsPolicy: String?
        public var containers: [Container]
        public var terminationGracePeriodSeconds: Int?
        public var volumes: [Volume]?
        public var serviceAccountName: String?
    }

    /// A pod volume: the kinds the local kubelet mounts (hostPath and secret).
    public struct Volume: Codable, Sendable {
        public struct HostPath: Codable, Sendable { public var path: String; public var type: String? }
        public struct SecretSource: Codable, Sendable { public var secretName: String? }
        public var name: String
        public var hostPath: HostPath?
        public var secret: SecretSource?
    }

    public struct VolumeMount: Codable, Sendable {
        public var name: String
        public var mountPath: String
        public var readOnly: Bool?
    }

    public struct SecurityContext: Codable, Sendable {
        public struct Capabilities: Codable, Sendable { public var add: [String]?; public var drop: [String]? }
        public var capabilities: Capabilities?
    }

    public struct Container: Codable, Sendable {
        public var name: String
        public var image: String?
        public var command: [String]?
        public var args: [String]?
        public var env: [EnvVar]?
        public var ports: [ContainerPort]?
        public var readinessProbe: Probe?
        public var livenessProbe: Probe?
        public var volumeMounts: [VolumeMount]?
        public var securityContext: SecurityContext?
    }

    public struct ContainerPort: Codable, Sendable {
        public var containerPort: Int
        public var hostPort: Int?
        public var `protocol`: String?
    }

    public struct EnvVar: Codable, Sendable {
        public struct Source: Codable, Sendable {
            public struct FieldRef: Codable, Sendable { public var fieldPath: String }
            public var fieldRef: FieldRef?
        }
        public var name: String
        public var value: String?
        public var valueFrom: Source?
    }

    public struct Probe: Codable, Sendable {
        public struct Exec: Codable, Sendable { public var command: [String]? }
        public struct Handler: Codable, Sendable { public var path: String?; public var port: IntOrString? }
        public var exec: Exec?
        public var httpGet: Handler?
        public var tcpSocket: Handler?
        public var initialDelaySeconds: Int?
        public var periodSeconds: Int?
        public var timeoutSeconds: Int?
        public var successThreshold: Int?
        public var failureThreshold: Int?
    }

    public enum IntOrString: Codable, Sendable {
        case int(Int), string(String)
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .string(let s): try c.encode(s)
            }
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
        public var podIP: String?
        public var podIPs: [PodIP]?
        public var hostIP: String?
        public var startTime: String?
        public var conditions: [Condition]?
        public var containerStatuses: [ContainerStatus]?
        public init() {}
    }

    public struct PodIP: Codable, Sendable, Equatable { public var ip: String; public init(ip: String) { self.ip = ip } }

    public struct Condition: Codable, Sendable, Equatable {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?
        public var lastTransitionTime: String?
        public var lastProbeTime: String?
        public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: String?) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastTransitionTime = lastTransitionTime
        }
    }

    public struct ContainerStatus: Codable, Sendable, Equatable {
        public var name: String
        public var ready: Bool
        public var started: Bool?
        public var restartCount: Int
        public var image: String
        public var imageID: String
        public var containerID: String?
        public var state: ContainerState
        public var lastState: ContainerState
        public init(name: String, ready: Bool, started: Bool?, restartCount: Int, image: String, imageID: String,
                    containerID: String?, state: ContainerState, lastState: ContainerState) {
            self.name = name
            self.ready = ready
            self.started = started
            self.restartCount = restartCount
            self.image = image
            self.imageID = imageID
            self.containerID = containerID
            self.state = state
            self.lastState = lastState
        }
    }

    public struct ContainerState: Codable, Sendable, Equatable {
        public struct Waiting: Codable, Sendable, Equatable { public var reason: String?; public var message: String? }
        public struct Running: Codable, Sendable, Equatable { public var startedAt: String? }
        public struct Terminated: Codable, Sendable, Equatable {
            public var exitCode: Int
            public var reason: String?
            public var startedAt: String?
            public var finishedAt: String?
        }
        public var waiting: Waiting?
        public var running: Running?
        public var terminated: Terminated?
        public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
            self.waiting = waiting
            self.running = running
            self.terminated = terminated
        }
        public static func waiting(_ reason: String, _ message: String?) -> ContainerState {
            ContainerState(waiting: Waiting(reason: reason, message: message))
        }
        public static func running(since: String) -> ContainerState { ContainerState(running: Running(startedAt: since)) }
        public static func terminated(exitCode: Int, reason: String, startedAt: String?, finishedAt: String) -> ContainerState {
            ContainerState(terminated: Terminated(exitCode: exitCode, reason: reason, startedAt: startedAt, finishedAt: finishedAt))
        }
    }
}

extension ObjectMeta {
    /// Set once the pod is being deleted (the kubelet then stops it and finishes the delete).
    public var isDeleting: Bool { deletionTimestamp != nil }
}

/// v1 Service (the fields a proxy and a DNS server read); named apart from ServiceLifecycle's `Service`.
public struct KubeService: Codable, Sendable {
    public var metadata: ObjectMeta
    public var spec: Spec

    public struct Spec: Codable, Sendable {
        public var type: String?
        public var clusterIP: String?
        public var ports: [Port]?
        /// `IPv4`/`IPv6`, the first being the family of `clusterIP` (dual-stack clusters).
        public var ipFamilies: [String]?
    }

    public struct Port: Codable, Sendable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int
        public var targetPort: Pod.IntOrString?
        public var nodePort: Int?
    }

    public var isHeadless: Bool { spec.clusterIP == nil || spec.clusterIP == "None" || spec.clusterIP == "" }
    /// The Service's primary family is IPv6 (its ClusterIP, endpoints and DNS answers).
    public var isIPv6: Bool {
        if let ip = spec.clusterIP, ip.contains(":") { return true }
        return spec.ipFamilies?.first == "IPv6"
    }
}

/// v1 Endpoints: a Service's ready (and not-ready) backends, per port set.
public struct Endpoints: Codable, Sendable {
    public var metadata: ObjectMeta
    public var subsets: [Subset]?

    public struct Subset: Codable, Sendable {
        public var addresses: [Address]?
        public var ports: [Port]?
    }

    public struct Address: Codable, Sendable {
        public var ip: String
        public var nodeName: String?
    }

    public struct Port: Codable, Sendable {
        public var name: String?
        public var port: Int
        public var `protocol`: String?
    }
}
