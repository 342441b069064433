import Foundation
import Glibc
import ICMPProbe
import Synchronization

/// Errors from topology helpers.
struct TopologyError: Error, CustomStringConvertible {
    let description: String
}

/// Runs a command, returning stdout; throws with stderr on a non-zero exit.
@discardableResult
func run(_ args: [String], stdin: String? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let inPipe = Pipe()
    if stdin != nil { p.standardInput = inPipe }
    try p.run()
    if let stdin {
        inPipe.fileHandleForWriting.write(Data(stdin.utf8))
        try inPipe.fileHandleForWriting.close()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw TopologyError(description: "\(args.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: e, as: UTF8.self))")
    }
    return String(decoding: o, as: UTF8.self)
}

/// A prober namespace and a target namespace joined by a veth pair. Traffic stays inside these namespaces:
/// the prober has no default route, and only 198.18.0.0/15 and fd00::/8 are used.
///
///   prober  198.18.0.1/24, fd00::1/64  <-veth->  target 198.18.0.2/24, fd00::2/64
///   extra target addresses live on the target's lo (/32, /128) and are routed from the prober via the veth.
final class Topology: Sendable {
    let id: String
    let prober: String
    let target: String
    static let proberV4 = "198.18.0.1", targetV4 = "198.18.0.2"
    static let proberV6 = "fd00::1", targetV6 = "fd00::2"

    init() throws {
        id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        prober = "icmpt-\(id)-p"
        target = "icmpt-\(id)-t"
        do {
            try setUp()
        } catch {
            tearDown()
            throw error
        }
    }

    private func setUp() throws {
        try run(["ip", "netns", "add", prober])
        try run(["ip", "netns", "add", target])
        let vp = "ip\(id)", vt = "it\(id)"
        try run(["ip", "link", "add", vp, "netns", prober, "type", "veth", "peer", "name", vt, "netns", target])
        try run(["ip", "-n", prober, "addr", "add", "\(Self.proberV4)/24", "dev", vp])
        try run(["ip", "-n", target, "addr", "add", "\(Self.targetV4)/24", "dev", vt])
        try run(["ip", "-n", prober, "addr", "add", "\(Self.proberV6)/64", "dev", vp, "nodad"])
        try run(["ip", "-n", target, "addr", "add", "\(Self.targetV6)/64", "dev", vt, "nodad"])
        for ns in [prober, target] { try run(["ip", "-n", ns, "link", "set", "lo", "up"]) }
        try run(["ip", "-n", prober, "link", "set", vp, "up"])
        try run(["ip", "-n", target, "link", "set", vt, "up"])
        // Extra target addresses are routed via the target's veth address.
        try run(["ip", "-n", prober, "route", "add", "198.18.1.0/24", "via", Self.targetV4])
        try run(["ip", "-n", prober, "route", "add", "198.18.2.0/24", "via", Self.targetV4])
        try run(["ip", "-n", prober, "-6", "route", "add", "fd00:1::/64", "via", Self.targetV6])
        // Right after link-up the first neighbour solicitations can be lost; wait until both families answer.
        for addr in [Self.targetV4, Self.targetV6] {
            var ok = false
            for _ in 0..<10 where !ok {
                ok = (try? run(["nsenter", "--net=/run/netns/\(prober)", "ping", "-c1", "-W1", addr])) != nil
            }
            if !ok { throw TopologyError(description: "target \(addr) never answered ping") }
        }
    }

    /// Adds /32 and /128 addresses on the target's loopback (one `ip -batch` call).
    func addTargetAddresses(_ addrs: [String]) throws {
        let batch = addrs.map { "addr add \($0)/\($0.contains(":") ? 128 : 32) dev lo\n" }.joined()
        try run(["ip", "-n", target, "-batch", "-"], stdin: batch)
    }

    /// Loads an nft ruleset into the target namespace.
    func nftTarget(_ rules: String) throws {
        try run(["nsenter", "--net=/run/netns/\(target)", "nft", "-f", "-"], stdin: rules)
    }

    /// Drops (silently) every echo request arriving at the target whose destination is in `to` (all if nil).
    func dropEchoRequests(to addrs: [String]? = nil) throws {
        var rules = "table inet icmpt {\nchain in {\ntype filter hook input priority 0; policy accept;\n"
        if let addrs {
            let v4 = addrs.filter { !$0.contains(":") }, v6 = addrs.filter { $0.contains(":") }
            if !v4.isEmpty { rules += "icmp type echo-request ip daddr { \(v4.joined(separator: ", ")) } drop\n" }
            if !v6.isEmpty { rules += "icmpv6 type echo-request ip6 daddr { \(v6.joined(separator: ", ")) } drop\n" }
        } else {
            rules += "icmp type echo-request drop\nicmpv6 type echo-request drop\n"
        }
        try nftTarget(rules + "}\n}\n")
    }

    /// Creates a pinger whose sockets live in the prober namespace: a dedicated thread enters the namespace
    /// with setns(2) (which only affects that thread) and opens the sockets there.
    func makePinger(identifier: UInt16? = nil) throws -> ICMPPinger {
        try Self.inNetns(prober) { try ICMPPinger(identifier: identifier) }
    }

    static func inNetns<T: Sendable>(_ ns: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, TopologyError>?>(nil)
        let thread = Thread {
            let fd = open("/run/netns/\(ns)", O_RDONLY | O_CLOEXEC)
            defer { if fd >= 0 { close(fd) } }
            guard fd >= 0, setnsNet(fd) == 0 else {
                result.withLock { $0 = .failure(TopologyError(description: "setns \(ns): errno \(errno)")) }
                return
            }
            do {
                let v = try body()
                result.withLock { $0 = .success(v) }
            } catch {
                result.withLock { $0 = .failure(TopologyError(description: "\(error)")) }
            }
        }
        thread.start()
        // The thread is discarded afterwards, so the namespace switch never leaks into other code.
        while true {
            if let r = result.withLock({ $0 }) { return try r.get() }
            usleep(1000)
        }
    }

    /// Deletes both namespaces, retrying: a CI run once left a pair behind after a teardown whose `ip netns del`
    /// failed silently under load. A namespace that survives every attempt is reported with the last error.
    func tearDown() {
        var lastError = ""
        for attempt in 0..<10 {
            let left = [prober, target].filter { FileManager.default.fileExists(atPath: "/run/netns/\($0)") }
            if left.isEmpty { return }
            if attempt > 0 { usleep(200_000) }
            for ns in left {
                do { try run(["ip", "netns", "del", ns]) } catch { lastError = "\(error)" }
            }
        }
        if [prober, target].allSatisfy({ !FileManager.default.fileExists(atPath: "/run/netns/\($0)") }) { return }
        FileHandle.standardError.write(Data("icmpt teardown: \(prober)/\(target) not deleted: \(lastError)\n".utf8))
    }
}

/// Runs `body` with a fresh topology that is always torn down, also when `body` throws.
func withTopology<R>(_ body: (Topology) async throws -> R) async throws -> R {
    let topo = try Topology()
    do {
        let r = try await body(topo)
        topo.tearDown()
        return r
    } catch {
        topo.tearDown()
        throw error
    }
}

/// Seconds elapsed while running `body`.
func timed<R>(_ body: () async throws -> R) async rethrows -> (R, Double) {
    let start = ContinuousClock.now
    let r = try await body()
    let d = ContinuousClock.now - start
    return (r, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
}

/// setns(fd, CLONE_NEWNET). Glibc's setns is behind _GNU_SOURCE, so it is looked up with dlsym.
func setnsNet(_ fd: Int32) -> Int32 {
    typealias SetnsFn = @convention(c) (Int32, Int32) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return -1 }  // RTLD_DEFAULT
    let fn = unsafeBitCast(sym, to: SetnsFn.self)
    return fn(fd, 0x4000_0000)  // CLONE_NEWNET
}
