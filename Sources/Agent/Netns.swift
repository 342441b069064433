import Foundation

/// Thin wrappers over iproute2 and nsenter for named network namespaces.
public enum Netns {
    public static func list() -> [String] {
        guard let r = try? Command.run(["ip", "netns", "list"]), r.status == 0 else { return [] }
        return r.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    public static func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/run/netns/\(name)")
    }

    public static func add(_ name: String) throws {
        try Command.check(["ip", "netns", "add", name])
    }

    public static func delete(_ name: String) {
        _ = try? Command.run(["ip", "netns", "delete", name])
    }

    public static func pids(_ name: String) -> [pid_t] {
        guard let r = try? Command.run(["ip", "netns", "pids", name]), r.status == 0 else { return [] }
        return r.stdout.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    /// Runs `ip -n NS <args>`.
    public static func ip(_ ns: String, _ args: String...) throws {
        try Command.check(["ip", "-n", ns] + args)
    }

    /// Runs a command inside the namespace; `nsenter` keeps /sys (and bpffs) as they are, unlike `ip netns exec`.
    @discardableResult
    public static func exec(_ ns: String, _ args: [String], input: String? = nil, timeout: TimeInterval = 30) throws -> Command.Result {
        try Command.run(["nsenter", "--net=/run/netns/\(ns)"] + args, input: input, timeout: timeout)
    }

    public static func sysctl(_ ns: String, _ settings: [String]) throws {
        let r = try exec(ns, ["sysctl", "-q", "-w"] + settings)
        guard r.status == 0 else { throw AgentError("sysctl in \(ns) failed: \(r.stderr)") }
    }
}
