import ArgumentParser
import Foundation
import HTTPSupport
import HealthAPI
import HealthDaemon
import Hummingbird
import ICMPProbe
import Logging

/// One real prober against thousands of simulated targets (bench/scale.sh gives them addresses on
/// a namespace of their own, with one responder answering for all).
@main
struct HealthScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health-scale-bench",
        abstract: "Run the health prober, or its HTTP probe alone, against many target addresses.",
        subcommands: [Agent.self, HTTP.self])
}

struct Targets: ParsableArguments {
    @Option(help: "File with one target address per line.") var file: String

    func load() throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ValidationError("cannot read --file \(file): \(error.localizedDescription)")
        }
        let all = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !all.isEmpty else { throw ValidationError("--file \(file) lists no addresses") }
        return all
    }
}

/// Every target as a node with one host address, as the agent's node list would give them.
struct StaticNodes: NodeSource {
    let nodes: [NodeElement]
    func fetch(clientID: Int64) async throws -> ClusterNodeStatus {
        ClusterNodeStatus(clientID: 1, self_: "scale/prober", nodesAdded: clientID == 0 ? nodes : [], nodesRemoved: [])
    }
}

func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
}

/// VmRSS, VmHWM and RssAnon (the process's own heap and stacks, without mapped library text) in KiB.
func memory() -> (rss: Int, peak: Int, anon: Int) {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first { !$0.isEmpty }?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
    }
    return (field("VmRSS"), field("VmHWM"), field("RssAnon"))
}

/// The prober as the agent runs it (sweep + fast detection), serving the health API on a unix socket.
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the prober for --seconds; print RSS, CPU and probe counts.")
    @OptionGroup var targets: Targets
    @Option(help: "Health API socket to serve.") var socket: String
    @Option(help: "Seconds to run.") var seconds = 60.0
    @Option(help: "connectivity-probe-frequency-ratio.") var ratio = 0.0

    func run() async throws {
        let ips = try targets.load()
        let nodes = ips.enumerated().map { i, ip in
            NodeElement(name: "scale/target-\(i)", primaryAddress: NodeAddressing(ipv4: NodeAddressingElement(ip: ip), ipv6: nil),
                        healthEndpointAddress: nil)
        }
        let logger = Logger(label: "scale")
        let pinger = try ICMPPinger()
        let http = HTTPProbe()
        let prober = HealthProber(source: StaticNodes(nodes: nodes), pinger: pinger, http: http,
                                  interval: try ProbeInterval(ratio: ratio), logger: logger)
        try UnixSocketFile.prepare(socket)
        let api = Application(router: HealthAPIRoutes.router(prober: prober, agent: APIClient(endpoint: .unix(path: "/nonexistent")),
                                                             startedAt: .now),
                              configuration: .init(address: .unixDomainSocket(path: socket)), logger: logger)
        let cpu0 = cpuSeconds()
        await withDiscardingTaskGroup { group in
            group.addTask { try? await api.runService() }
            group.addTask { await prober.run() }
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(seconds) {
                try? await Task.sleep(for: .seconds(5))
                let wide = await prober.wideStatus()
                let m = memory()
                print("t=\(Int((ContinuousClock.now - start).seconds))s rss_kib=\(m.rss) peak_kib=\(m.peak) anon_kib=\(m.anon) cpu_s=\(String(format: "%.2f", cpuSeconds() - cpu0)) "
                    + "echoes=\(wide.paths.reduce(0) { $0 + $1.echoes }) replies=\(wide.paths.reduce(0) { $0 + $1.replies }) "
                    + "sched_p99_us=\(wide.prober.schedulingDelayP99 / 1000) bursts_per_s=\(String(format: "%.1f", wide.prober.probesPerSecond))")
                fflush(nil)
            }
            group.cancelAll()
        }
        let wide = await prober.wideStatus()
        let reachable = wide.status.nodes.count(where: \.isHealthy)
        let m = memory()
        print("targets=\(ips.count) reachable=\(reachable) rss_kib=\(m.rss) peak_kib=\(m.peak) anon_kib=\(m.anon) cpu_s=\(String(format: "%.2f", cpuSeconds() - cpu0))")
        pinger.close()
        await http.shutdown()
    }
}

/// The HTTP probe alone: every target --rounds times, --concurrency at once; CPU per probe.
struct HTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Probe every target over HTTP; print CPU µs per probe.")
    @OptionGroup var targets: Targets
    @Option(help: "Rounds over all targets.") var rounds = 3
    @Option(help: "Probes in flight.") var concurrency = 64

    func run() async throws {
        let ips = try targets.load()
        let probe = HTTPProbe()
        let work = (0..<rounds).flatMap { _ in ips }
        let cpu0 = cpuSeconds()
        let start = ContinuousClock.now
        var ok = 0
        var latencies: [Int64] = []
        await withTaskGroup(of: HTTPProbe.Outcome.self) { group in
            var next = 0
            while next < min(concurrency, work.count) {
                let ip = work[next]
                group.addTask { await probe.probe(ip) }
                next += 1
            }
            while let outcome = await group.next() {
                if case .ok(let ns) = outcome {
                    ok += 1
                    latencies.append(ns)
                }
                if next < work.count {
                    let ip = work[next]
                    group.addTask { await probe.probe(ip) }
                    next += 1
                }
            }
        }
        let cpu = cpuSeconds() - cpu0
        await probe.shutdown()
        latencies.sort()
        let median = latencies.isEmpty ? 0 : latencies[latencies.count / 2]
        print("probes=\(work.count) ok=\(ok) wall_s=\(String(format: "%.2f", (ContinuousClock.now - start).seconds)) cpu_s=\(String(format: "%.3f", cpu)) "
            + "cpu_us_per_probe=\(String(format: "%.1f", cpu / Double(work.count) * 1e6)) median_latency_us=\(median / 1000)")
    }
}
