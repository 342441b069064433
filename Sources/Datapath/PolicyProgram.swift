import CLibBPF
import Foundation

/// Policy direction from the pod's point of view.
public enum PolicyDirection: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Traffic leaving the pod (host veth tc ingress, `policy_from_pod`).
    case egress = 1
    /// Traffic entering the pod (host veth tc egress, `policy_to_pod`).
    case ingress = 2

    public var description: String { self == .egress ? "egress" : "ingress" }
}

/// L4 protocol of an allow rule. `.any` matches every protocol (so `.any` + port 53 allows
/// DNS over both TCP and UDP).
public enum PolicyProtocol: Sendable, Hashable, CustomStringConvertible {
    case any, tcp, udp, icmp, icmpv6
    case number(UInt8)

    public var number: UInt8 {
        switch self {
        case .any: 0
        case .tcp: 6
        case .udp: 17
        case .icmp: 1
        case .icmpv6: 58
        case .number(let n): n
        }
    }

    public init(number: UInt8) {
        switch number {
        case 0: self = .any
        case 6: self = .tcp
        case 17: self = .udp
        case 1: self = .icmp
        case 58: self = .icmpv6
        default: self = .number(number)
        }
    }

    /// Accepts "TCP", "UDP", "ANY", "ICMP", "ICMPv6" (case-insensitive) or a number.
    public init?(name: String) {
        switch name.lowercased() {
        case "any", "": self = .any
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "icmp": self = .icmp
        case "icmpv6", "ipv6-icmp": self = .icmpv6
        default:
            guard let n = UInt8(name) else { return nil }
            self.init(number: n)
        }
    }

    public var description: String {
        switch self {
        case .any: "ANY"
        case .tcp: "TCP"
        case .udp: "UDP"
        case .icmp: "ICMP"
        case .icmpv6: "ICMPv6"
        case .number(let n): "proto-\(n)"
        }
    }
}

/// One pod veth with both programs attached.
public struct PolicyAttachment: Sendable, Hashable {
    public let ifname: String
    public let netnsPath: String?
    /// ifindex inside `netnsPath` (the key of the `endpoints` map).
    public let ifindex: Int32
    public let endpoint: UInt32
    /// True when attach created the clsact qdisc (detach then removes it).
    public let createdQdisc: Bool
}

/// The loaded policy object: attaches `policy_from_pod`/`policy_to_pod` and edits its maps.
///
/// Maps are keyed by host-veth ifindex, which is unique only within one namespace: use one
/// `PolicyProgram` per node namespace.
public final class PolicyProgram: @unchecked Sendable {
    public static let fromPodProgram = "policy_from_pod"
    public static let toPodProgram = "policy_to_pod"
    /// tc filter handle/priority used for both hooks.
    public static let tcHandle: UInt32 = 0xC111
    public static let tcPriority: UInt32 = 1

    public let object: BPFObject
    let fromPodFD: Int32
    let toPodFD: Int32
    let endpointsMap: BPFMap
    let configMap: BPFMap
    let egressMap: BPFMap
    let ingressMap: BPFMap
    let conntrackMap: BPFMap
    public let eventsMap: BPFMap

    private let lock = NSLock()
    private var attachments: [PolicyAttachment] = []

    public init(object: BPFObject) throws {
        self.object = object
        fromPodFD = try object.programFD(named: Self.fromPodProgram)
        toPodFD = try object.programFD(named: Self.toPodProgram)
        endpointsMap = try object.map(named: "endpoints")
        configMap = try object.map(named: "pod_config")
        egressMap = try object.map(named: "egress_allow")
        ingressMap = try object.map(named: "ingress_allow")
        conntrackMap = try object.map(named: "conntrack")
        eventsMap = try object.map(named: "events")
    }

    /// Opens and loads the object (default path: `BPFObject.defaultObjectPath()`).
    public static func load(objectPath: String? = nil) throws -> PolicyProgram {
        try PolicyProgram(object: BPFObject.open(path: objectPath))
    }

    public var currentAttachments: [PolicyAttachment] {
        lock.lock(); defer { lock.unlock() }
        return attachments
    }

    // MARK: attach / detach

    /// Attaches both programs to the clsact hooks of `ifname` (the host side of a pod veth)
    /// inside `netnsPath` (nil = this thread's namespace) and maps its ifindex to `endpoint`.
    @discardableResult
    public func attach(ifname: String, netnsPath: String?, endpoint: UInt32) throws -> PolicyAttachment {
        let from = fromPodFD, to = toPodFD
        let (ifindex, created) = try NetworkNamespace.run(path: netnsPath) { () throws -> (Int32, Bool) in
            let idx = Int32(bitPattern: if_nametoindex(ifname))
            guard idx > 0 else { throw BPFError(operation: "if_nametoindex \(ifname)", code: errno == 0 ? ENODEV : errno) }
            let rc = PolicyProgram.withHook(ifindex: idx, point: BPF_TC_INGRESS) { bpf_tc_hook_create($0) }
            if rc < 0 && rc != -EEXIST { throw BPFError(operation: "bpf_tc_hook_create \(ifname)", code: rc) }
            let created = rc == 0
            do {
                try PolicyProgram.attachFilter(ifindex: idx, point: BPF_TC_INGRESS, fd: from, ifname: ifname)
                try PolicyProgram.attachFilter(ifindex: idx, point: BPF_TC_EGRESS, fd: to, ifname: ifname)
            } catch {
                PolicyProgram.detachFilters(ifindex: idx, destroyQdisc: created)
                throw error
            }
            return (idx, created)
        }
        var key = UInt32(bitPattern: ifindex)
        var ep = endpoint
        do {
            try endpointsMap.update(key: &key, value: &ep)
        } catch {
            _ = try? NetworkNamespace.run(path: netnsPath) { PolicyProgram.detachFilters(ifindex: ifindex, destroyQdisc: created) }
            throw error
        }
        let a = PolicyAttachment(ifname: ifname, netnsPath: netnsPath, ifindex: ifindex,
                                 endpoint: endpoint, createdQdisc: created)
        lock.lock()
        attachments.removeAll { $0.ifindex == ifindex && $0.netnsPath == netnsPath }
        attachments.append(a)
        lock.unlock()
        return a
    }

    /// Removes both filters (and the clsact qdisc if attach created it). A vanished
    /// interface or namespace counts as detached.
    public func detach(_ a: PolicyAttachment) throws {
        lock.lock()
        attachments.removeAll { $0 == a }
        lock.unlock()
        var key = UInt32(bitPattern: a.ifindex)
        try endpointsMap.delete(key: &key)
        if let p = a.netnsPath, !FileManager.default.fileExists(atPath: p) { return }
        try NetworkNamespace.run(path: a.netnsPath) { () throws in
            // Make sure the ifindex still names the same interface.
            var buf = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
            guard if_indextoname(UInt32(bitPattern: a.ifindex), &buf) != nil,
                  stringFromCBuffer(buf) == a.ifname else { return }
            try PolicyProgram.detachFiltersChecked(ifindex: a.ifindex, destroyQdisc: a.createdQdisc, ifname: a.ifname)
        }
    }

    /// Detaches every attachment made by this instance; throws the first error after trying all.
    public func detachAll() throws {
        var firstError: Error?
        for a in currentAttachments {
            do { try detach(a) } catch { if firstError == nil { firstError = error } }
        }
        if let firstError { throw firstError }
    }

    /// Detaches everything and closes the object. Also done on deinit: the maps are not
    /// pinned, so nothing could update the policy once this instance is gone.
    public func close() {
        try? detachAll()
        object.close()
    }

    deinit { close() }

    /// libbpf's opts structs are validated byte-wise (padding past the last field must be
    /// zero, like LIBBPF_OPTS does). Swift copies of C structs do not preserve padding, so
    /// they are built in zeroed heap memory and only ever passed by that pointer.
    static func withZeroed<T, R>(_: T.Type, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        return try body(raw.assumingMemoryBound(to: T.self))
    }

    static func withHook<R>(ifindex: Int32, point: bpf_tc_attach_point,
                            _ body: (UnsafeMutablePointer<bpf_tc_hook>) throws -> R) rethrows -> R {
        try withZeroed(bpf_tc_hook.self) { h in
            h.pointee.sz = MemoryLayout<bpf_tc_hook>.size
            h.pointee.ifindex = ifindex
            h.pointee.attach_point = point
            return try body(h)
        }
    }

    static func withOpts<R>(fd: Int32, flags: UInt32, _ body: (UnsafeMutablePointer<bpf_tc_opts>) throws -> R) rethrows -> R {
        try withZeroed(bpf_tc_opts.self) { o in
            o.pointee.sz = MemoryLayout<bpf_tc_opts>.size
            o.pointee.prog_fd = fd
            o.pointee.flags = flags
            o.pointee.handle = tcHandle
            o.pointee.priority = tcPriority
            return try body(o)
        }
    }

    static func attachFilter(ifindex: Int32, point: bpf_tc_attach_point, fd: Int32, ifname: String) throws {
        let where_ = point == BPF_TC_INGRESS ? "ingress" : "egress"
        let rc = withHook(ifindex: ifindex, point: point) { h in
            withOpts(fd: fd, flags: UInt32(BPF_TC_F_REPLACE.rawValue)) { o in bpf_tc_attach(h, o) }
        }
        try BPFError.check(rc, "bpf_tc_attach \(ifname) \(where_)")
    }

    static func detachFiltersChecked(ifindex: Int32, destroyQdisc: Bool, ifname: String) throws {
        var firstError: BPFError?
        func tolerated(_ rc: Int32) -> Bool { rc >= 0 || rc == -ENOENT || rc == -ENODEV || rc == -EINVAL }
        for point in [BPF_TC_INGRESS, BPF_TC_EGRESS] {
            let rc = withHook(ifindex: ifindex, point: point) { h in
                withOpts(fd: 0, flags: 0) { o in bpf_tc_detach(h, o) }
            }
            if !tolerated(rc) && firstError == nil {
                firstError = BPFError(operation: "bpf_tc_detach \(ifname)", code: rc)
            }
        }
        if destroyQdisc {
            let both = bpf_tc_attach_point(BPF_TC_INGRESS.rawValue | BPF_TC_EGRESS.rawValue)
            let rc = withHook(ifindex: ifindex, point: both) { bpf_tc_hook_destroy($0) }
            if !tolerated(rc) && firstError == nil {
                firstError = BPFError(operation: "bpf_tc_hook_destroy \(ifname)", code: rc)
            }
        }
        if let firstError { throw firstError }
    }

    static func detachFilters(ifindex: Int32, destroyQdisc: Bool) {
        try? detachFiltersChecked(ifindex: ifindex, destroyQdisc: destroyQdisc, ifname: "ifindex \(ifindex)")
    }

    // MARK: policy maps

    /// Turns default-deny on/off per direction (a pod is default-deny in a direction once any
    /// policy selects it for that direction). Keeps the stored addresses.
    public func setEnforcement(endpoint: UInt32, egress: Bool, ingress: Bool, allowICMPEcho: Bool = false) throws {
        var cfg = try config(endpoint: endpoint)
        cfg.flags = (egress ? PolicyFlags.egress : 0) | (ingress ? PolicyFlags.ingress : 0)
            | (allowICMPEcho ? PolicyFlags.icmpEcho : 0)
        try store(cfg, endpoint: endpoint)
    }

    /// Records the pod's own addresses (informational for the datapath; shown by tools).
    public func setAddresses(endpoint: UInt32, ipv4: String?, ipv6: String?) throws {
        var cfg = try config(endpoint: endpoint)
        cfg.ipv4 = [0, 0, 0, 0]
        cfg.ipv6 = [UInt8](repeating: 0, count: 16)
        if let ipv4 {
            guard let (f, b) = IPPrefix.parseAddress(ipv4), f == .v4 else {
                throw BPFError(operation: "parse IPv4 \(ipv4)", code: EINVAL)
            }
            cfg.ipv4 = Array(b.prefix(4))
        }
        if let ipv6 {
            guard let (f, b) = IPPrefix.parseAddress(ipv6), f == .v6 else {
                throw BPFError(operation: "parse IPv6 \(ipv6)", code: EINVAL)
            }
            cfg.ipv6 = b
        }
        try store(cfg, endpoint: endpoint)
    }

    /// Current configuration of an endpoint (all-zero if none).
    public func config(endpoint: UInt32) throws -> PodConfig {
        var key = endpoint
        var raw = [UInt8](repeating: 0, count: PodConfig.size)
        let found = try raw.withMutableBase { try configMap.lookup(key: &key, value: $0) }
        return found ? PodConfig(raw: raw) : PodConfig()
    }

    private func store(_ cfg: PodConfig, endpoint: UInt32) throws {
        var key = endpoint
        let raw = cfg.raw
        try raw.withBase { try configMap.update(key: &key, value: $0) }
    }

    /// Allows `direction` traffic of `endpoint` to (egress) / from (ingress) `cidr`, for
    /// `proto` (`.any` = all) and destination `port` (0 = any).
    public func allow(endpoint: UInt32, direction: PolicyDirection, cidr: String,
                      proto: PolicyProtocol = .any, port: UInt16 = 0) throws {
        let key = try PolicyKey(endpoint: endpoint, prefix: IPPrefix(cidr), proto: proto.number, port: port)
        var one: UInt8 = 1
        try key.raw.withBase { k in
            try map(for: direction).update(key: k, value: &one)
        }
    }

    /// Removes one rule added by `allow`. Returns false if it was not present.
    @discardableResult
    public func revoke(endpoint: UInt32, direction: PolicyDirection, cidr: String,
                       proto: PolicyProtocol = .any, port: UInt16 = 0) throws -> Bool {
        let key = try PolicyKey(endpoint: endpoint, prefix: IPPrefix(cidr), proto: proto.number, port: port)
        return try key.raw.withBase { k in try map(for: direction).delete(key: k) }
    }

    /// Rules currently stored for an endpoint.
    public func rules(endpoint: UInt32, direction: PolicyDirection) throws -> [PolicyRule] {
        try allKeys(map(for: direction)).filter { $0.endpoint == endpoint }.map {
            PolicyRule(direction: direction, cidr: $0.cidr, proto: PolicyProtocol(number: $0.proto), port: $0.port)
        }
    }

    /// Removes every rule and the enforcement/config of `endpoint` (it becomes allow-all).
    public func clear(endpoint: UInt32) throws {
        for dir in [PolicyDirection.egress, .ingress] {
            let m = map(for: dir)
            for k in try allKeys(m) where k.endpoint == endpoint {
                _ = try k.raw.withBase { try m.delete(key: $0) }
            }
        }
        var key = endpoint
        try configMap.delete(key: &key)
    }

    /// Drops all connection-tracking entries (e.g. between test cases).
    public func flushConntrack() throws {
        var key = [UInt8](repeating: 0, count: 40)
        var keys: [[UInt8]] = []
        var next = [UInt8](repeating: 0, count: 40)
        var first = true
        while try next.withMutableBase({ n in
            try key.withBase { k in try conntrackMap.nextKey(after: first ? nil : k, into: n) }
        }) {
            keys.append(next)
            key = next
            first = false
            if keys.count > 1_000_000 { break }
        }
        for k in keys { _ = try k.withBase { try conntrackMap.delete(key: $0) } }
    }

    private func map(for direction: PolicyDirection) -> BPFMap {
        direction == .egress ? egressMap : ingressMap
    }

    private func allKeys(_ m: BPFMap) throws -> [PolicyKey] {
        var out: [PolicyKey] = []
        var cur = [UInt8](repeating: 0, count: PolicyKey.size)
        var next = [UInt8](repeating: 0, count: PolicyKey.size)
        var first = true
        while try next.withMutableBase({ n in
            try cur.withBase { c in try m.nextKey(after: first ? nil : c, into: n) }
        }) {
            out.append(PolicyKey(raw: next))
            cur = next
            first = false
            if out.count > 1_000_000 { break }
        }
        return out
    }
}

enum PolicyFlags {
    static let egress: UInt32 = 1 << 0
    static let ingress: UInt32 = 1 << 1
    static let icmpEcho: UInt32 = 1 << 2
}

/// A stored allow rule.
public struct PolicyRule: Sendable, Hashable, CustomStringConvertible {
    public let direction: PolicyDirection
    public let cidr: String
    public let proto: PolicyProtocol
    public let port: UInt16
    public var description: String { "\(direction) \(cidr) \(port == 0 ? "*" : String(port))/\(proto)" }
}

/// Mirror of `struct pod_config` (bpf/policy.h), 24 bytes.
public struct PodConfig: Sendable, Hashable {
    static let size = 24
    public var flags: UInt32 = 0
    public var ipv4: [UInt8] = [0, 0, 0, 0]
    public var ipv6: [UInt8] = [UInt8](repeating: 0, count: 16)

    public init() {}

    init(raw: [UInt8]) {
        flags = raw.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        ipv4 = Array(raw[4..<8])
        ipv6 = Array(raw[8..<24])
    }

    var raw: [UInt8] {
        var out = withUnsafeBytes(of: flags) { Array($0) }
        out += ipv4.prefix(4) + [UInt8](repeating: 0, count: max(0, 4 - ipv4.count))
        out += ipv6.prefix(16) + [UInt8](repeating: 0, count: max(0, 16 - ipv6.count))
        return out
    }

    public var egressEnforced: Bool { flags & PolicyFlags.egress != 0 }
    public var ingressEnforced: Bool { flags & PolicyFlags.ingress != 0 }
    public var allowsICMPEcho: Bool { flags & PolicyFlags.icmpEcho != 0 }
}

/// Mirror of `struct policy_key` (bpf/policy.h), 28 bytes.
struct PolicyKey {
    static let size = 28
    let raw: [UInt8]

    init(endpoint: UInt32, prefix: IPPrefix, proto: UInt8, port: UInt16) {
        var r = withUnsafeBytes(of: UInt32(64 + prefix.length)) { Array($0) }
        r += withUnsafeBytes(of: endpoint) { Array($0) }
        r.append(prefix.family.rawValue)
        r.append(proto)
        r += withUnsafeBytes(of: port.bigEndian) { Array($0) }
        r += prefix.bytes
        raw = r
    }

    init(raw: [UInt8]) { self.raw = raw }

    var endpoint: UInt32 { raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) } }
    var proto: UInt8 { raw[9] }
    var port: UInt16 { UInt16(bigEndian: raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 10, as: UInt16.self) }) }
    var cidr: String {
        let family: IPFamily = raw[8] == 6 ? .v6 : .v4
        let plen = Int(raw.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) - 64
        return "\(IPPrefix.format(Array(raw[12..<28]), family: family))/\(plen)"
    }
}
