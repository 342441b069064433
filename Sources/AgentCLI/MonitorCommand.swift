import Agent
import ArgumentParser
import CommandLineSupport
import Foundation

/// `agent monitor --type drop`: the local datapath's drop notifications, as `cilium monitor`
/// streams them. The eBPF programs' ring buffer has one consumer position, owned by the
/// `conntest run` that loaded them; it writes every drop to the cluster's drop log, which this
/// follows (live by default, like upstream; `--from-start` replays the latest run's first).
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Display the local datapath's policy drop events.",
        discussion: """
            Streams one line per dropped packet while `conntest run` enforces policy on the cluster, e.g.
              xx drop (Policy denied) flow egress from endpoint 9, ifindex 7: 198.19.2.11:40112 -> 198.18.128.10:8080 tcp (pod-to-a-denied-cnp -> echo-a)
            Runs until Ctrl-C or --duration, and ends with exit 1 if the cluster goes down. Events come \
            from <state>/<cluster>/drops.log, which each run \
            starts afresh; the monitor follows it across runs.
            """)

    static let supportedTypes = ["drop"]
    static let upstreamTypes = ["drop", "debug", "capture", "trace", "l7", "agent", "policy-verdict", "recorder", "trace-sock"]

    @Option(name: .long, help: "Cluster name.")
    var name: String = "local"

    @Option(name: .customLong("type"), help: ArgumentHelp("Event types to show (only 'drop' exists locally).", valueName: "type"))
    var types: [String] = []

    @Flag(name: .customLong("from-start"), help: "First print the drops the latest run already recorded.")
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
        // SIGINT/SIGTERM end the stream cleanly (exit 0) instead of killing it mid-line.
        let interrupt = InterruptFlag()
        let signals = SignalHandlers { _ in interrupt.set() }
        defer { withExtendedLifetime(signals) {} }
        FileHandle.standardError.write(Data("Listening for drop events of cluster '\(name)' (\(layout.dropLogPath))\nPress Ctrl-C to quit\n".utf8))

        var follower = LogFollower(path: layout.dropLogPath, fromStart: fromStart)
        let clock = ContinuousClock()
        let end = duration.map { clock.now + .milliseconds(Int64($0 * 1000)) }
        while !interrupt.fired {
            let lines = follower.readLines()
            if !lines.isEmpty { FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8)) }
            // Like cilium monitor losing its agent: a cluster taken down ends the stream (exit 1)
            // rather than leaving a monitor that waits forever for a log nobody will write.
            guard FileManager.default.fileExists(atPath: layout.specPath) else {
                throw AgentError("cluster '\(name)' went down; no more events")
            }
            if let end, clock.now >= end { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        if interrupt.fired { FileHandle.standardError.write(Data("Received an interrupt, disconnecting from monitor...\n".utf8)) }
    }
}

/// Set from a signal handler, polled by the stream loop.
private final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false

    var fired: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }

    func set() {
        lock.lock()
        flag = true
        lock.unlock()
    }
}
