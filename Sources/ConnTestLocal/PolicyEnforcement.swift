import Agent
import Datapath
import Foundation

/// The eBPF datapath of a run: one `PolicyProgram` per node (endpoint keys are host-veth ifindexes,
/// unique only within a node's namespace), attached to every pod veth of that node, plus a drop
/// event reader per program. `close()` detaches everything and is idempotent (signal-safe queue).
public final class PolicyEnforcement: @unchecked Sendable {
    public let objectPath: String
    private let lock = NSLock()
    private var programs: [String: PolicyProgram]
    private var readers: [DropEventReader] = []
    private var drainTasks: [Task<Void, Never>] = []
    private var closed = false
    private let log = DropLog()

    /// Loads one program per node (no namespace is touched yet). Throws when the object cannot
    /// be found, built or loaded: the caller then runs without enforcement.
    public init(nodes: [String], objectPath: String? = nil) throws {
        let path = try objectPath ?? PolicyObjectLocator.locateOrBuild()
        self.objectPath = path
        var programs: [String: PolicyProgram] = [:]
        for node in nodes { programs[node] = try PolicyProgram.load(objectPath: path) }
        self.programs = programs
    }

    /// Attaches to every endpoint's host veth, programs enforcement and rules, starts the drop
    /// readers. `onDrop` sees each event with the pods it names (for `--monitor`).
    public func apply(_ plan: EnforcementPlan, layout: StateLayout,
                      onDrop: @escaping @Sendable (AttributedDrop) -> Void = { _ in }) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw AgentError("interrupted") }
        for ep in plan.endpoints {
            guard let program = programs[ep.node] else { throw AgentError("no policy program for \(ep.node)") }
            try program.attach(ifname: ep.hostInterface, netnsPath: "/run/netns/\(layout.nodeNamespace(ep.node))", endpoint: ep.id)
            try program.setAddresses(endpoint: ep.id, ipv4: ep.ipv4, ipv6: ep.ipv6)
            for rule in ep.rules { try program.allow(endpoint: ep.id, rule) }
            // Enforcement last: the rules are in place before default-deny starts.
            try program.setEnforcement(endpoint: ep.id, egress: ep.egressEnforced, ingress: ep.ingressEnforced)
        }
        let attribution = DropAttribution(plan: plan)
        for program in programs.values {
            let reader = try DropEventReader(program: program)
            readers.append(reader)
            let log = self.log
            drainTasks.append(Task.detached {
                for await event in reader.events {
                    let drop = attribution.attribute(event)
                    log.append(drop)
                    onDrop(drop)
                }
            })
        }
    }

    /// Detaches every program (the datapath then forwards everything); keeps the maps. For tests
    /// that prove a check fails without enforcement.
    public func detachAll() throws {
        lock.lock()
        let programs = Array(self.programs.values)
        lock.unlock()
        for p in programs { try p.detachAll() }
    }

    /// Stops the readers (delivering what was emitted so far) and returns every drop seen.
    public func stopMonitoring() async -> [AttributedDrop] {
        let (readers, tasks) = takeReaders()
        for r in readers { r.stop() }
        for t in tasks { await t.value }
        return log.all
    }

    public var drops: [AttributedDrop] { log.all }

    private func takeReaders() -> ([DropEventReader], [Task<Void, Never>]) {
        lock.lock()
        defer { lock.unlock() }
        let out = (readers, drainTasks)
        readers = []
        drainTasks = []
        return out
    }

    /// Detaches and closes every program. Idempotent.
    public func close() {
        lock.lock()
        closed = true
        let programs = Array(self.programs.values), readers = self.readers
        self.programs = [:]
        self.readers = []
        lock.unlock()
        for r in readers { r.stop() }
        for p in programs { p.close() }
    }

    deinit { close() }
}

/// Drops seen so far (thread-safe append-only list).
private final class DropLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [AttributedDrop] = []

    func append(_ d: AttributedDrop) { lock.lock(); items.append(d); lock.unlock() }
    var all: [AttributedDrop] { lock.lock(); defer { lock.unlock() }; return items }
}
