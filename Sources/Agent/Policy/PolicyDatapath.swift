import ConnTest
import Datapath
import Foundation
import HealthAPI
import HealthDaemon
import Logging

/// One pod's wanted datapath state, as the policy role computed it.
struct DesiredEndpoint: Sendable, Equatable {
    var uid: String
    /// `namespace/name`.
    var pod: String
    var hostInterface: String
    var ipv4: String?
    var ipv6: String?
    var egressEnforced: Bool
    var ingressEnforced: Bool
    var rules: [PolicyRuleSpec]
    var egressPolicies: [String]
    var ingressPolicies: [String]
}

/// The node's eBPF policy datapath, owned by its agent: one `PolicyProgram` (endpoint keys are
/// host-veth ifindexes, unique only within this node's namespace, where the agent runs), attached
/// to the host veth of every pod the kubelet role runs, and the ring-buffer reader whose drops fan
/// out to the monitor readers. An object that cannot be loaded leaves the node unenforced (never
/// closed) and says why in `status`.
final class PolicyDatapath: @unchecked Sendable {
    let node: String
    let broadcast: DropBroadcast
    let objectPath: String?
    let loadError: String?
    private let program: PolicyProgram?
    private let reader: DropEventReader?
    private var drain: Task<Void, Never>?

    private struct Programmed {
        var desired: DesiredEndpoint
        var id: UInt32
        var attachment: PolicyAttachment
    }

    private let lock = NSLock()
    private var programmed: [String: Programmed] = [:]
    private var pending: [String] = []
    private var names = DropNames()
    private var notes: [String] = []
    private var detached = false
    private var nextID: UInt32 = 1
    private var lastSync: Date?

    /// `objectPath` nil: the datapath is off, with `unavailable` as the reason.
    init(node: String, objectPath: String?, unavailable: String? = nil, broadcast: DropBroadcast, logger: Logger) {
        self.node = node
        self.broadcast = broadcast
        self.objectPath = objectPath
        var program: PolicyProgram?
        var reader: DropEventReader?
        var failure: String?
        if let objectPath {
            do {
                program = try PolicyProgram.load(objectPath: objectPath)
                reader = try program.map { try DropEventReader(program: $0) }
            } catch {
                failure = "cannot load \(objectPath): \(error)"
                program = nil
            }
        } else {
            failure = unavailable ?? "no policy object"
        }
        self.program = reader == nil ? nil : program
        self.reader = reader
        loadError = failure
        if let failure {
            logger.error("policy: datapath disabled, pods on \(node) run without policy enforcement: \(failure)")
        } else {
            logger.info("policy: datapath loaded from \(objectPath ?? "")")
        }
        if let reader {
            drain = Task.detached { [weak self, events = reader.events] in
                for await event in events {
                    guard let self else { return }
                    let record = DropRecord(event, node: node, names: self.currentNames,
                                            monotonicNow: DropRecord.monotonicNanoseconds(), wallNow: Date())
                    self.broadcast.publish(record)
                }
            }
        }
    }

    var isLoaded: Bool { program != nil }

    /// The names, plus each programmed endpoint's pod: a drop is attributed to its endpoint's pod
    /// even before the pod's addresses reached the API (its first packets leave before that).
    private var currentNames: DropNames {
        lock.lock(); defer { lock.unlock() }
        var out = names
        for p in programmed.values { out.endpoints[p.id] = p.desired.pod }
        return out
    }

    /// Brings every endpoint to `desired`: new pods are attached (rules before default-deny), changed
    /// ones get the added allows, then their enforcement, then lose the removed allows, and pods that
    /// are gone are detached and cleared. A pod whose veth is not there yet stays pending. Throws the
    /// first failure after trying every endpoint.
    func apply(_ desired: [DesiredEndpoint], names: DropNames, notes: [String]) throws {
        lock.lock()
        defer { lock.unlock() }
        self.names = names
        self.notes = notes
        lastSync = Date()
        guard let program, !detached else { pending = desired.map(\.pod); return }
        var firstError: Error?
        let wanted = Set(desired.map(\.uid))
        for (uid, old) in programmed where !wanted.contains(uid) {
            remove(old, from: program)
            programmed[uid] = nil
        }
        pending = []
        for ep in desired {
            let ifindex = Int32(bitPattern: if_nametoindex(ep.hostInterface))
            guard ifindex > 0 else { pending.append(ep.pod); continue }
            do {
                if var current = programmed[ep.uid], current.attachment.ifindex == ifindex {
                    if current.desired != ep { try update(current, to: ep, in: program) }
                    current.desired = ep
                    programmed[ep.uid] = current
                    continue
                }
                if let stale = programmed[ep.uid] { remove(stale, from: program) }
                programmed[ep.uid] = nil
                let id = nextID
                nextID += 1
                let attachment = try program.attach(ifname: ep.hostInterface, netnsPath: nil, endpoint: id)
                let fresh = Programmed(desired: ep, id: id, attachment: attachment)
                programmed[ep.uid] = fresh
                try program.setAddresses(endpoint: id, ipv4: ep.ipv4, ipv6: ep.ipv6)
                for rule in ep.rules { try program.allow(endpoint: id, rule) }
                try program.setEnforcement(endpoint: id, egress: ep.egressEnforced, ingress: ep.ingressEnforced)
            } catch {
                if firstError == nil { firstError = AgentError("endpoint \(ep.pod): \(error)") }
            }
        }
        if let firstError { throw firstError }
    }

    private func update(_ current: Programmed, to ep: DesiredEndpoint, in program: PolicyProgram) throws {
        let old = Set(current.desired.rules), new = Set(ep.rules)
        for rule in new.subtracting(old).sorted() { try program.allow(endpoint: current.id, rule) }
        if current.desired.ipv4 != ep.ipv4 || current.desired.ipv6 != ep.ipv6 {
            try program.setAddresses(endpoint: current.id, ipv4: ep.ipv4, ipv6: ep.ipv6)
        }
        try program.setEnforcement(endpoint: current.id, egress: ep.egressEnforced, ingress: ep.ingressEnforced)
        for rule in old.subtracting(new).sorted() { try program.revoke(endpoint: current.id, rule) }
    }

    private func remove(_ p: Programmed, from program: PolicyProgram) {
        try? program.detach(p.attachment)  // a deleted pod's veth is already gone
        try? program.clear(endpoint: p.id)
    }

    /// Takes the programs off every pod veth and keeps them off (the pods are then unenforced)
    /// until `resume()`: how tests show that a check depends on enforcement.
    func detach() throws {
        lock.lock()
        defer { lock.unlock() }
        detached = true
        guard let program else { return }
        for p in programmed.values { try? program.clear(endpoint: p.id) }
        pending = programmed.values.map(\.desired.pod)
        programmed = [:]
        try program.detachAll()
    }

    /// Lets the next sync attach the programs again.
    func resume() {
        lock.lock()
        detached = false
        lock.unlock()
    }

    /// Ends the monitor streams and the ring-buffer reader. The programs stay attached, as
    /// Cilium's datapath outlives its agent; the next agent replaces them.
    func shutdown() async {
        broadcast.finish()
        reader?.stop()
        await drain?.value
    }

    var status: PolicyStatus {
        lock.lock()
        defer { lock.unlock() }
        let state: String, message: String
        if let loadError {
            state = "Disabled"
            message = loadError
        } else if detached {
            state = "Detached"
            message = "policy programs detached on request; pods are not enforced (POST /v1/policy/attach resumes)"
        } else {
            state = "Ok"
            message = ""
        }
        let endpoints = programmed.values.map { p in
            PolicyStatus.Endpoint(pod: p.desired.pod, id: p.id, interface: p.desired.hostInterface, ifindex: p.attachment.ifindex,
                                  ipv4: p.desired.ipv4, egressEnforced: p.desired.egressEnforced,
                                  ingressEnforced: p.desired.ingressEnforced, rules: p.desired.rules.map(\.description),
                                  egressPolicies: p.desired.egressPolicies, ingressPolicies: p.desired.ingressPolicies)
        }.sorted { $0.pod < $1.pod }
        return PolicyStatus(node: node, state: state, message: message, objectPath: objectPath,
                            lastSync: lastSync.map(RFC3339.string), endpoints: endpoints, pending: pending.sorted(),
                            notes: notes, monitor: broadcast.stats)
    }
}

/// `GET /v1/policy`.
public struct PolicyStatus: Codable, Sendable, Equatable {
    public struct Endpoint: Codable, Sendable, Equatable {
        public var pod: String
        public var id: UInt32
        public var interface: String
        public var ifindex: Int32
        public var ipv4: String?
        public var egressEnforced: Bool
        public var ingressEnforced: Bool
        /// `egress 198.19.2.100/32 tcp 8080` style.
        public var rules: [String]
        public var egressPolicies: [String]
        public var ingressPolicies: [String]
    }

    public var node: String
    /// `Ok`, `Detached`, or `Disabled` (the object did not load; `message` says why).
    public var state: String
    public var message: String
    public var objectPath: String?
    public var lastSync: String?
    public var endpoints: [Endpoint]
    /// Pods of this node not programmed (yet): no veth yet, or detached.
    public var pending: [String]
    /// Policies or rules not enforced, with the reason (unsupported features, invalid policies).
    public var notes: [String]
    public var monitor: MonitorStats
}

extension PolicyProgram {
    /// `allow`/`revoke` of one compiled rule.
    public func allow(endpoint: UInt32, _ rule: PolicyRuleSpec) throws {
        try allow(endpoint: endpoint, direction: rule.datapathDirection, cidr: rule.cidr,
                  proto: PolicyProtocol(number: rule.proto.number), port: rule.port)
    }

    @discardableResult
    public func revoke(endpoint: UInt32, _ rule: PolicyRuleSpec) throws -> Bool {
        try revoke(endpoint: endpoint, direction: rule.datapathDirection, cidr: rule.cidr,
                   proto: PolicyProtocol(number: rule.proto.number), port: rule.port)
    }
}

extension PolicyRuleSpec {
    var datapathDirection: PolicyDirection { direction == .egress ? .egress : .ingress }
}
