import Foundation
import XCTest
@testable import Datapath

/// Result of a command run to completion.
struct CommandResult {
    let status: Int32
    let output: String
}

enum Shell {
    static func which(_ name: String) -> String? {
        if name.hasPrefix("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a command, capturing stdout+stderr (bounded by the command itself).
    @discardableResult
    static func run(_ args: [String]) throws -> CommandResult {
        guard let first = args.first, let exe = which(first) else {
            throw BPFError(operation: "run \(args.joined(separator: " "))", message: "command not found")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = Array(args.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CommandResult(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs a command and throws when it fails.
    @discardableResult
    static func must(_ args: [String]) throws -> String {
        let r = try run(args)
        guard r.status == 0 else {
            throw BPFError(operation: args.joined(separator: " "), message: "exit \(r.status): \(r.output)")
        }
        return r.output
    }
}

/// node namespace + pods `a` and `b`, each behind a veth whose host side lives in node:
///   pod a eth0 198.18.1.2/24 fd00:bf:1::2/64  <-> node "ha" 198.18.1.1 fd00:bf:1::1
///   pod b eth0 198.18.2.2/24 fd00:bf:2::2/64  <-> node "hb" 198.18.2.1 fd00:bf:2::1
/// Traffic only ever originates inside these namespaces.
final class Topology {
    let prefix: String
    var node: String { "\(prefix)-node" }
    var podA: String { "\(prefix)-a" }
    var podB: String { "\(prefix)-b" }
    static let aV4 = "198.18.1.2", bV4 = "198.18.2.2"
    static let aV6 = "fd00:bf:1::2", bV6 = "fd00:bf:2::2"

    private var created: [String] = []
    let docRoot = FileManager.default.temporaryDirectory.appendingPathComponent("bpft-www-\(UUID().uuidString)").path
    private var processes: [Process] = []

    init() {
        prefix = "bpft-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    func path(_ ns: String) -> String { "/run/netns/\(ns)" }

    func setUp() throws {
        try FileManager.default.createDirectory(atPath: docRoot, withIntermediateDirectories: true)
        for ns in [node, podA, podB] {
            try Shell.must(["ip", "netns", "add", ns])
            created.append(ns)
            try Shell.must(["ip", "-n", ns, "link", "set", "lo", "up"])
            // Link-local addresses otherwise stay tentative for ~1-2 s and the first IPv6
            // packets are lost (observed: curl exit 28 with no policy at all).
            try Shell.must(["ip", "netns", "exec", ns, "sysctl", "-qw",
                            "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])
        }
        try Shell.must(["ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try Shell.must(["ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
        for (pod, host, n) in [(podA, "ha", 1), (podB, "hb", 2)] {
            try Shell.must(["ip", "-n", node, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", pod])
            try Shell.must(["ip", "-n", node, "addr", "add", "198.18.\(n).1/24", "dev", host])
            try Shell.must(["ip", "-n", node, "addr", "add", "fd00:bf:\(n)::1/64", "dev", host, "nodad"])
            try Shell.must(["ip", "-n", node, "link", "set", host, "up"])
            try Shell.must(["ip", "-n", pod, "addr", "add", "198.18.\(n).2/24", "dev", "eth0"])
            try Shell.must(["ip", "-n", pod, "addr", "add", "fd00:bf:\(n)::2/64", "dev", "eth0", "nodad"])
            try Shell.must(["ip", "-n", pod, "link", "set", "eth0", "up"])
            try Shell.must(["ip", "-n", pod, "route", "add", "default", "via", "198.18.\(n).1"])
            try Shell.must(["ip", "-n", pod, "-6", "route", "add", "default", "via", "fd00:bf:\(n)::1"])
        }
        try waitNoTentativeAddresses()
    }

    private func waitNoTentativeAddresses() throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let pending = try [node, podA, podB].map { try Shell.must(["ip", "-n", $0, "-6", "addr", "show", "tentative"]) }
            if pending.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) { return }
            usleep(100_000)
        }
        throw BPFError(operation: "IPv6 addresses still tentative", code: ETIMEDOUT)
    }

    /// Kills every process started here, then deletes the namespaces. Safe to call twice.
    func tearDown() {
        for p in processes where p.isRunning {
            p.terminate()
        }
        for p in processes {
            let deadline = Date().addingTimeInterval(3)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        processes.removeAll()
        for ns in created.reversed() {
            _ = try? Shell.run(["ip", "netns", "del", ns])
        }
        created.removeAll()
        try? FileManager.default.removeItem(atPath: docRoot)
    }

    /// Starts a long-running command inside `ns` (killed by tearDown).
    func spawn(in ns: String, _ args: [String]) throws {
        guard let nsenter = Shell.which("nsenter"), let exe = Shell.which(args[0]) else {
            throw BPFError(operation: "spawn \(args)", message: "command not found")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nsenter)
        // exec the command directly so terminate() reaches it (nsenter execs, no fork).
        p.arguments = ["--net=\(path(ns))", exe] + args.dropFirst()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        processes.append(p)
    }

    func exec(in ns: String, _ args: [String]) throws -> CommandResult {
        try Shell.run(["nsenter", "--net=\(path(ns))"] + args)
    }

    static var python: String { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3" }

    /// HTTP on 8080 and 53/TCP, UDP echo on 53 — all dual-stack, in pod b.
    func startServers() throws {
        try spawn(in: podB, [Topology.python, "-m", "http.server", "8080", "--bind", "::", "--directory", docRoot])
        try spawn(in: podB, [Topology.python, "-m", "http.server", "53", "--bind", "::", "--directory", docRoot])
        try spawn(in: podB, [Topology.python, "-c", """
            import socket
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 53))
            while True:
                d, a = s.recvfrom(2048)
                s.sendto(d, a)
            """])
        try waitListening(ns: podB, tcp: [8080, 53], udp: [53])
    }

    func waitListening(ns: String, tcp: [Int], udp: [Int]) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let t = (try? exec(in: ns, ["ss", "-Hltn"]))?.output ?? ""
            let u = (try? exec(in: ns, ["ss", "-Hlun"]))?.output ?? ""
            if tcp.allSatisfy({ t.contains(":\($0) ") }) && udp.allSatisfy({ u.contains(":\($0) ") }) { return }
            usleep(100_000)
        }
        throw BPFError(operation: "wait for servers in \(ns)", code: ETIMEDOUT)
    }

    /// curl exit status: 0 ok, 28 timeout (dropped), 7 refused.
    func curl(from ns: String, host: String, port: Int) throws -> Int32 {
        let h = host.contains(":") ? "[\(host)]" : host
        return try exec(in: ns, ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "2", "-m", "4",
                                 "http://\(h):\(port)/"]).status
    }

    /// UDP request/response: 0 answered, 28 no answer within 2 s.
    func udp(from ns: String, host: String, port: Int) throws -> Int32 {
        try exec(in: ns, [Topology.python, "-c", """
            import socket, sys
            host, port = sys.argv[1], int(sys.argv[2])
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.sendto(b"q", (host, port))
            try:
                s.recvfrom(100)
            except socket.timeout:
                sys.exit(28)
            """, host, String(port)]).status
    }
}

/// Collects drop events from a reader on a background task.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [DropEvent] = []
    private var task: Task<Void, Never>?

    init(_ reader: DropEventReader) {
        let stream = reader.events
        task = Task { [weak self] in
            for await e in stream { self?.append(e) }
        }
    }

    private func append(_ e: DropEvent) {
        lock.lock(); events.append(e); lock.unlock()
    }

    var all: [DropEvent] {
        lock.lock(); defer { lock.unlock() }
        return events
    }

    func waitFor(timeout: TimeInterval = 3, _ match: (DropEvent) -> Bool) -> DropEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let e = all.first(where: match) { return e }
            usleep(50_000)
        } while Date() < deadline
        return nil
    }

    func cancel() { task?.cancel() }
}

enum BPFTestBuild {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<String, Error>?

    /// Compiles bpf/policy.bpf.c once per test process via bpf/build.sh.
    static func objectPath() throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let built { return try built.get() }
        let r = Result { () throws -> String in
            let out = try Shell.must(["bash", "\(packageRoot)/bpf/build.sh", "\(packageRoot)/.build/bpf"])
            return out.split(separator: "\n").last.map(String.init) ?? "\(packageRoot)/.build/bpf/policy.bpf.o"
        }
        built = r
        return try r.get()
    }
}
