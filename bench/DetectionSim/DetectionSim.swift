import ArgumentParser
import HealthDaemon

/// `detection-sim`: the fast-detection logic at cluster sizes no machine here can run for real.
@main
struct DetectionSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detection-sim",
        abstract: "Discrete-event simulation of fast failure detection (the agents' own scheduler, simulated network and clock).",
        discussion: """
            Scenarios: blackhole (one node drops everything: time until every other agent's own probe \
            confirmed it, and probe rates), loss (5 % inbound loss on every node and +50 ms ± 25 ms on one: \
            false reports), flap (one node down 2 s, up 2 s: how many outages each agent reports).
            """)

    @Option(help: "Cluster size.") var nodes = 1000
    @Option(help: "blackhole, loss or flap.") var scenario = "blackhole"
    @Option(help: "Simulated seconds of the loss and flap scenarios.") var seconds = 120.0
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard nodes >= 2 else { throw ValidationError("--nodes must be at least 2, got \(nodes)") }
        guard ["blackhole", "loss", "flap"].contains(scenario) else {
            throw ValidationError("--scenario must be blackhole, loss or flap, got '\(scenario)'")
        }
        guard seconds.isFinite, seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }

    func run() throws {
        var settings = DetectionSimulation.Settings(nodes: nodes)
        settings.seed = seed
        let sim = DetectionSimulation(settings)
        switch scenario {
        case "blackhole":
            let r = Scenarios.blackhole(sim)
            print("nodes=\(nodes) scenario=blackhole")
            print(String(describing: r))
        case "loss":
            let r = Scenarios.loss(sim, seconds: seconds)
            print("nodes=\(nodes) scenario=loss(5% everywhere, +50±25 ms on node-1) seconds=\(seconds) false_down_reports=\(r.falseDowns) suspicions=\(r.suspicionDatagrams) fast_bursts_per_agent_per_s=\(fmt(r.burstsPerAgentPerSecond))")
        default:
            let r = Scenarios.flap(sim, seconds: seconds)
            print("nodes=\(nodes) scenario=flap(2 s down, 2 s up) outages=\(r.outages) reported_per_agent min=\(r.minReported) mean=\(fmt(r.meanReported))")
        }
    }
}

func fmt(_ v: Double) -> String {
    guard v.isFinite else { return "inf" }
    let hundredths = Int((v * 100).rounded())
    return "\(hundredths / 100).\(String(repeating: "0", count: hundredths % 100 < 10 ? 1 : 0))\(hundredths % 100)"
}

/// The scenarios, shared by the CLI and the unit tests.
public enum Scenarios {
    public struct Blackhole: CustomStringConvertible {
        public var observers: Int
        public var detected: Int
        public var p50: Double
        public var max: Double
        /// Fast-path bursts per agent per second while healthy, and upstream's sweep on top.
        public var fastBurstsPerSecond: Double
        public var sweepProbesPerSecond: Double
        public var gossipDatagrams: Int
        public var suspicions: Int
        public var description: String {
            "detected_by=\(detected)/\(observers) detection_p50_s=\(fmt(p50)) detection_max_s=\(fmt(max)) "
                + "fast_icmp_bursts_per_agent_per_s=\(fmt(fastBurstsPerSecond)) sweep_probes_per_agent_per_s=\(fmt(sweepProbesPerSecond)) "
                + "total_per_agent_per_s=\(fmt(fastBurstsPerSecond + sweepProbesPerSecond)) suspicions=\(suspicions) gossip_datagrams=\(gossipDatagrams)"
        }
    }

    /// Warm up 20 s, black-hole node 0 at a moment unrelated to any probe phase, run 20 s more.
    public static func blackhole(_ sim: DetectionSimulation, victim: Int = 0) -> Blackhole {
        let warm: Duration = .seconds(20)
        sim.run(until: warm)
        let healthyBursts = Double(sim.bursts) / Double(sim.settings.nodes) / warm.seconds
        let faultAt = warm + .milliseconds(337)
        sim.at(faultAt) { $0.blackholed.insert(victim) }
        sim.run(until: faultAt + .seconds(20))
        let times = sim.detections.filter { $0.down && $0.peer == victim && $0.at >= faultAt }
            .reduce(into: [Int: Duration]()) { first, d in first[d.observer] = min(first[d.observer] ?? d.at, d.at) }
            .values.map { ($0 - faultAt).seconds }.sorted()
        let n = sim.settings.nodes
        let interval = (try? ProbeInterval(ratio: 0.5))?.seconds(ipCount: n * sim.settings.addressesPerNode) ?? 1
        return Blackhole(observers: n - 1, detected: times.count, p50: times.isEmpty ? .infinity : times[times.count / 2],
                         max: times.last ?? .infinity, fastBurstsPerSecond: healthyBursts,
                         sweepProbesPerSecond: Double(n * sim.settings.addressesPerNode) / interval,
                         gossipDatagrams: sim.datagrams, suspicions: sim.suspicions)
    }

    public struct Loss {
        public var falseDowns: Int
        public var suspicionDatagrams: Int
        public var burstsPerAgentPerSecond: Double
    }

    public static func loss(_ sim: DetectionSimulation, seconds: Double) -> Loss {
        sim.lossEverywhere = 0.05
        sim.delay[1] = (.milliseconds(50), .milliseconds(25))
        sim.run(until: .seconds(seconds))
        return Loss(falseDowns: sim.detections.count(where: \.down), suspicionDatagrams: sim.datagrams,
                    burstsPerAgentPerSecond: Double(sim.bursts) / Double(sim.settings.nodes) / seconds)
    }

    public struct Flap {
        public var outages: Int
        public var minReported: Int
        public var meanReported: Double
    }

    /// Node 0 down 2 s, up 2 s, from t = 10 s; counts per observer how many outages it reported.
    public static func flap(_ sim: DetectionSimulation, seconds: Double) -> Flap {
        var outages = 0
        var t = Duration.seconds(10)
        var windows: [(Duration, Duration)] = []
        while t + .seconds(4) <= .seconds(seconds) {
            sim.at(t) { $0.blackholed.insert(0) }
            sim.at(t + .seconds(2)) { $0.blackholed.remove(0) }
            windows.append((t, t + .seconds(4)))
            outages += 1
            t += .seconds(4)
        }
        sim.run(until: .seconds(seconds))
        var reported = [Int](repeating: 0, count: sim.settings.nodes)
        for (start, end) in windows {
            var seen = Set<Int>()
            for d in sim.detections where d.down && d.peer == 0 && d.at >= start && d.at < end { seen.insert(d.observer) }
            for o in seen { reported[o] += 1 }
        }
        let observers = reported.dropFirst()
        return Flap(outages: outages, minReported: observers.min() ?? 0,
                    meanReported: Double(observers.reduce(0, +)) / Double(max(1, observers.count)))
    }
}
