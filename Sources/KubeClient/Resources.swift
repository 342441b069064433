import Foundation

/// The API objects this project reads and writes, as the subset of fields it uses. Unknown fields
/// are ignored on decode; nil fields are left out on encode.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil,
                annotations: [String: String]? = nil, ownerReferences: [OwnerReference]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
    }
}

public struct OwnerReference: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public init(apiVersion: String, kind: String, name: String, uid: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
    }
}

public struct Node: Codable, Sendable {
    /// Absent on the items of a list.
    public var apiVersion: String? = "v1"
    public var kind: String? = "Node"
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public struct Spec: Codable, Sendable {
        public var podCIDR: String?
        public var podCIDRs: [String]?
        public var unschedulable: Bool?
        public var taints: [Taint]?
        public init(podCIDR: String? = nil, podCIDRs: [String]? = nil) {
            self.podCIDR = podCIDR
            self.podCIDRs = podCIDRs
        }
    }

    public struct Taint: Codable, Sendable {
        public var key: String
        public var value: String?
        public var effect: String
    }

    public struct Status: Codable, Sendable {
        public var conditions: [Condition]?
        public var addresses: [Address]?
        public var capacity: [String: String]?
        public var allocatable: [String: String]?
        public var nodeInfo: NodeInfo?
        public init(conditions: [Condition]? = nil, addresses: [Address]? = nil, capacity: [String: String]? = nil,
                    allocatable: [String: String]? = nil, nodeInfo: NodeInfo? = nil) {
            self.conditions = conditions
            self.addresses = addresses
            self.capacity = capacity
            self.allocatable = allocatable
            self.nodeInfo = nodeInfo
        }
    }

    public struct Condition: Codable, Sendable, Equatable {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?
        public var lastHeartbeatTime: String?
        public var lastTransitionTime: String?
        public init(type: String, status: String, reason: String?, message: String?,
                    lastHeartbeatTime: String?, lastTransitionTime: String?) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastHeartbeatTime = lastHeartbeatTime
            self.lastTransitionTime = lastTransitionTime
        }
    }

    public struct Address: Codable, Sendable, Equatable {
        public var type: String
        public var address: String
        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
    }

    public struct NodeInfo: Codable, Sendable {
        public var machineID: String? = ""
        public var systemUUID: String? = ""
        public var bootID: String? = ""
        public var kernelVersion: String
        public var osImage: String
        public var containerRuntimeVersion: String
        public var kubeletVersion: String
        public var kubeProxyVersion: String
        public var operatingSystem: String? = "linux"
        public var architecture: String
        public init(kernelVersion: String, osImage: String, containerRuntimeVersion: String,
                    kubeletVersion: String, kubeProxyVersion: String, architecture: String) {
            self.kernelVersion = kernelVersion
            self.osImage = osImage
            self.containerRuntimeVersion = containerRuntimeVersion
            self.kubeletVersion = kubeletVersion
            self.kubeProxyVersion = kubeProxyVersion
            self.architecture = architecture
        }
    }

    public func condition(_ type: String) -> Condition? { status?.conditions?.first { $0.type == type } }
}

/// coordination.k8s.io/v1 Lease: a node's heartbeat in `kube-node-lease`.
public struct Lease: Codable, Sendable {
    public var apiVersion: String? = "coordination.k8s.io/v1"
    public var kind: String? = "Lease"
    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Codable, Sendable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        public var renewTime: String?
        public init(holderIdentity: String?, leaseDurationSeconds: Int?, renewTime: String?) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.renewTime = renewTime
        }
    }
}

/// A list response: its items and the resourceVersion a watch resumes from.
public struct ObjectList<Item: Decodable & Sendable>: Decodable, Sendable {
    public struct ListMeta: Decodable, Sendable { public var resourceVersion: String? }
    public var metadata: ListMeta?
    public var items: [Item]
}

/// An API object with metadata, as the reflector caches it.
public protocol KubeMetadataObject: Decodable, Sendable {
    var metadata: ObjectMeta { get }
}

extension Node: KubeMetadataObject {}
extension Pod: KubeMetadataObject {}

/// metav1.Time (RFC 3339, seconds) and metav1.MicroTime (microseconds), always UTC.
public enum KubeTime {
    public static func time(_ date: Date) -> String { format(date, fraction: false) }
    public static func microTime(_ date: Date) -> String { format(date, fraction: true) }

    private static func format(_ date: Date, fraction: Bool) -> String {
        let t = date.timeIntervalSince1970
        var secs = time_t(t.rounded(.down))
        var tm = tm()
        gmtime_r(&secs, &tm)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                          Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
        guard fraction else { return base + "Z" }
        let micros = min(999_999, Int(((t - t.rounded(.down)) * 1_000_000).rounded(.down)))
        return base + String(format: ".%06dZ", micros)
    }

    /// Parses either form back (for ages and tests).
    public static func parse(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return f.date(from: text)
    }
}

/// cilium.io/v2 CiliumNode, the fields the health node source reads (`spec.health`, `spec.addresses`).
public struct CiliumNode: Codable, Sendable, KubeMetadataObject {
    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Codable, Sendable {
        public var health: Health?
        public var addresses: [Address]?
        public init(health: Health?, addresses: [Address]? = nil) {
            self.health = health
            self.addresses = addresses
        }
    }

    public struct Health: Codable, Sendable {
        public var ipv4: String?
        public var ipv6: String?
        public init(ipv4: String?, ipv6: String?) {
            self.ipv4 = ipv4
            self.ipv6 = ipv6
        }
    }

    public struct Address: Codable, Sendable {
        public var type: String
        public var ip: String
    }
}
