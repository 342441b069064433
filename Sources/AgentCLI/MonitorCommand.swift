import Agent
import ArgumentParser
import CommandLineSupport
import Foundation

/// `agent monitor --type drop`: the nodes' policy drop notifications, as `cilium monitor` streams
/// them, read from each node agent's API (`GET /v1/monitor/drops` on its cilium.sock). The agent
/// owns its datapath's ring buffer and fans the drops out, so any number of monitors can run.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Display the local datapath's policy drop events.",
        discussion: """
            Streams one line per packet the node agents' eBPF policy datapath drops (pods created \
            through the Kubernetes API, under CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy \
            and NetworkPolicy), e.g.
              xx drop (Policy denied) flow egress from endpoint 3, ifindex 9: 198.19.1.101:40112 -> 198.18.128.10:8080 tcp (cilium-test/pod-to-a-denied-cnp-5d7f8 -> cilium-test/echo-a)
            from every node, or only from --node. Each line starts with the node's name when more than \
            one node is followed. `Lost N events` means this monitor read too slowly and the agent \
            discarded N drops for it (others are not affected). Runs until Ctrl-C or --duration, and \
            ends with exit 1 if the cluster goes down; an agent that restarts is reconnected to.
            """)

    static let supportedTypes = ["drop"]
    static let upstreamTypes = ["drop", "debug", "capture", "trace", "l7", "agent", "policy-verdict", "recorder", "trace-sock"]

    @Option(name: .long, help: "Cluster name.")
    var name: String = "local"

    @Option(name: .customLong("type"), help: ArgumentHelp("Event types to show (only 'drop' exists locally).", valueName: "type"))
    var types: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only this node's drops (default: every node).", valueName: "name"))
    var node: String?

    @Flag(name: .customLong("from-start"), help: "First print the latest drops each agent kept (up to 1024 per node).")
    var fromStart = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C).", valueName: "seconds"))
    var duration: Double?

    func validate() throws {
        try asUsageError { try StateLayout.validate(clusterName: name) }
        for t in types where !Self.supportedTypes.contains(t) {
            guard Self.upstreamTypes.contains(t) else {
                throw ValidationError("unknown --type '\(t)': use one of \(Self.upstreamTypes.joined(separator: ", "))")
            }
            throw ValidationError("--type \(t): the local datapath raises only drop events")
        }
        if let duration, !(duration.isFinite && duration > 0) {
            throw ValidationError("--duration must be a positive number of seconds, got \(duration)")
        }
    }

    func run() async throws {
        let layout = StateLayout(cluster: name)
        guard FileManager.default.fileExists(atPath: layout.specPath) else {
            throw AgentError("cluster '\(name)' is not up (no \(layout.specPath)); start one with `agent cluster up --name \(name)`")
        }
        let spec = try ClusterSpec.load(layout.specPath)
        var nodes = spec.nodes.map(\.name)
        if let node {
            guard nodes.contains(node) else {
                throw AgentError("no node '\(node)' in cluster '\(name)'; nodes: \(nodes.joined(separator: ", "))")
            }
            nodes = [node]
        }
        // SIGINT/SIGTERM end the stream cleanly (exit 0) instead of killing it mid-line.
        let stop = StopSignal()
        let signals = SignalHandlers { _ in stop.fire(.interrupted) }
        defer { withExtendedLifetime(signals) {} }
        let output = LineWriter()
        let prefix = nodes.count > 1
        let followers = nodes.map { node in
            Task { await follow(node, layout: layout, prefix: prefix, output: output, stop: stop) }
        }
        FileHandle.standardError.write(Data("Listening for drop events of cluster '\(name)' on \(nodes.joined(separator: ", "))\nPress Ctrl-C to quit\n".utf8))
        let reason = await stop.wait(timeout: duration)
        followers.forEach { $0.cancel() }
        for f in followers { await f.value }
        switch reason {
        case .interrupted: FileHandle.standardError.write(Data("Received an interrupt, disconnecting from monitor...\n".utf8))
        case .clusterDown: throw AgentError("cluster '\(name)' went down; no more events")
        case .elapsed: break
        }
    }

    /// One node's stream, reconnected (once a second) while the cluster exists; the agent may be restarting.
    private func follow(_ node: String, layout: StateLayout, prefix: Bool, output: LineWriter, stop: StopSignal) async {
        var complained = false
        var first = true
        while !Task.isCancelled {
            do {
                for try await event in AgentMonitorClient.events(socketPath: layout.agentSocket(node), fromStart: fromStart && first) {
                    complained = false
                    let lead = prefix ? "\(node): " : ""
                    switch event {
                    case .drop(let record): output.write(lead + record.summary)
                    case .lost(let n): output.write(lead + "Lost \(n) events")
                    }
                }
            } catch {
                if Task.isCancelled { return }
                guard FileManager.default.fileExists(atPath: layout.specPath) else { return stop.fire(.clusterDown) }
                if !complained {
                    FileHandle.standardError.write(Data("\(node): \(error); reconnecting\n".utf8))
                    complained = true
                }
            }
            if Task.isCancelled { return }
            guard FileManager.default.fileExists(atPath: layout.specPath) else { return stop.fire(.clusterDown) }
            first = false
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// Whole lines to stdout from several streams (never interleaved mid-line).
private final class LineWriter: @unchecked Sendable {
    private let lock = NSLock()

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// Why the monitor stops: first reason wins.
private final class StopSignal: @unchecked Sendable {
    enum Reason { case interrupted, clusterDown, elapsed }

    private let lock = NSLock()
    private var reason: Reason?

    /// Safe from a signal handler's queue.
    func fire(_ r: Reason) {
        lock.lock()
        if reason == nil { reason = r }
        lock.unlock()
    }

    private var current: Reason? {
        lock.lock(); defer { lock.unlock() }
        return reason
    }

    /// Polls every 100 ms.
    func wait(timeout seconds: Double?) async -> Reason {
        let clock = ContinuousClock()
        let end = seconds.map { clock.now + .milliseconds(Int64($0 * 1000)) }
        while true {
            if let r = current { return r }
            if let end, clock.now >= end { return .elapsed }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
