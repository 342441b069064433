import ArgumentParser
import Glibc
import ICMPProbe

// Bench / test driver for ICMPProbe. Runs in whatever network namespace it is started in
// (use `nsenter --net=/run/netns/NS`). Avoids Foundation so start-up CPU stays small for the fping comparison.

@main
struct ICMPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ICMPBench",
        abstract: "ICMP echo prober bench and test driver.",
        subcommands: [Probe.self, RTT.self, Sweep.self])
}

struct ProbeOptions: ParsableArguments {
    @Option(help: "Echo requests per address.") var attempts = 3
    @Option(name: .customLong("spacing-ms"), help: "Milliseconds between echoes.") var spacingMs = 100
    @Option(name: .customLong("deadline-ms"), help: "Overall deadline per address in milliseconds.") var deadlineMs = 10_000
    @Option(help: "Maximum probes in flight (0 = all at once).") var concurrency = 0
    @Option(help: "Send a sequenced burst of this many echoes per address, waiting for all (the health prober's probe); 0: upstream's first-reply-wins attempts.") var burst = 0
    @Option(help: "File with one address per line.") var file: String?
    @Argument(help: "Addresses to probe.") var addresses: [String] = []

    func allAddresses() throws -> [String] {
        var all = addresses
        if let file {
            guard let f = fopen(file, "r") else { throw ValidationError("cannot open \(file)") }
            defer { fclose(f) }
            var line: UnsafeMutablePointer<CChar>?
            var cap = 0
            while getline(&line, &cap, f) > 0, let line {
                let s = String(cString: line).filter { !$0.isWhitespace }
                if !s.isEmpty { all.append(s) }
            }
            free(line)
        }
        return all
    }
}

/// Probes addresses concurrently (bounded window), returning outcomes in input order.
func probeAll(_ pinger: ICMPPinger, _ addrs: [String], _ o: ProbeOptions) async -> [ICMPOutcome] {
    let window = o.concurrency > 0 ? o.concurrency : max(1, addrs.count)
    var results = [ICMPOutcome](repeating: .timedOut, count: addrs.count)
    await withTaskGroup(of: (Int, ICMPOutcome).self) { group in
        var next = 0
        func launch() {
            let i = next, a = addrs[i]
            next += 1
            group.addTask {
                guard o.burst > 0 else {
                    return (i, await pinger.ping(a, attempts: o.attempts, spacing: .milliseconds(o.spacingMs),
                                                 deadline: .milliseconds(o.deadlineMs)))
                }
                return (i, await pinger.burst(a, count: o.burst, spacing: .milliseconds(o.spacingMs),
                                              timeout: .milliseconds(o.deadlineMs)).outcome)
            }
        }
        while next < addrs.count && next < window { launch() }
        while let (i, r) = await group.next() {
            results[i] = r
            if next < addrs.count { launch() }
        }
    }
    return results
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if u.value < 0x20 { out += "\\u00" + String(u.value, radix: 16).leftPad(2) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

func cpuSeconds() -> (user: Double, sys: Double) {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return (Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6,
            Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6)
}

func makePinger() throws -> ICMPPinger {
    do { return try ICMPPinger() } catch {
        throw ValidationError("\(error)")
    }
}

/// Prints one JSON object per line: {"address","result":"reply|timedOut|failed","rtt_ns","attempt","error"}.
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Probe addresses and print JSON lines.")
    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let addrs = try options.allAddresses()
        let pinger = try makePinger()
        defer { pinger.close() }
        let results = await probeAll(pinger, addrs, options)
        var out = ""
        for (a, r) in zip(addrs, results) {
            switch r {
            case .reply(let rtt, let attempt):
                out += "{\"address\":\(jsonString(a)),\"result\":\"reply\",\"rtt_ns\":\(rtt),\"attempt\":\(attempt)}\n"
            case .timedOut:
                out += "{\"address\":\(jsonString(a)),\"result\":\"timedOut\"}\n"
            case .failed(let e):
                out += "{\"address\":\(jsonString(a)),\"result\":\"failed\",\"error\":\(jsonString(e))}\n"
            }
        }
        print(out, terminator: "")
    }
}

/// Sequential single-echo probes like `ping -c N -i I`; prints each RTT and the median in µs.
struct RTT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sequential probes to one address; print median RTT.")
    @Option var count = 20
    @Option(name: .customLong("interval-ms")) var intervalMs = 200
    @Flag(help: "Print only the median in µs.") var quiet = false
    @Argument var address: String

    func run() async throws {
        let pinger = try makePinger()
        defer { pinger.close() }
        var rtts: [Double] = []
        for i in 0..<count {
            if i > 0 { try await Task.sleep(for: .milliseconds(intervalMs)) }
            switch await pinger.ping(address, attempts: 1, deadline: .seconds(2)) {
            case .reply(let ns, _):
                rtts.append(Double(ns) / 1000)
                if !quiet { print("seq=\(i) rtt=\(fmt(Double(ns) / 1000, 1)) us") }
            case let other:
                if !quiet { print("seq=\(i) \(other)") }
            }
        }
        rtts.sort()
        guard !rtts.isEmpty else { throw ExitCode(1) }
        let med = rtts.count % 2 == 1 ? rtts[rtts.count / 2] : (rtts[rtts.count / 2 - 1] + rtts[rtts.count / 2]) / 2
        print(quiet ? fmt(med, 1) : "median_us=\(fmt(med, 1)) n=\(rtts.count)")
    }
}

/// Probes all addresses once (bounded concurrency) and prints counts, wall time and this process's CPU.
struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Probe many addresses once; print counts and CPU seconds.")
    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let addrs = try options.allAddresses()
        let pinger = try makePinger()
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        let results = await probeAll(pinger, addrs, options)
        clock_gettime(CLOCK_MONOTONIC, &t1)
        pinger.close()
        var replies = 0, timeouts = 0, failures = 0
        for r in results {
            switch r {
            case .reply: replies += 1
            case .timedOut: timeouts += 1
            case .failed: failures += 1
            }
        }
        let wall = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) / 1e9
        let cpu = cpuSeconds()
        print("addresses=\(addrs.count) replies=\(replies) timeouts=\(timeouts) failed=\(failures) wall_s=\(fmt(wall, 3)) user_s=\(fmt(cpu.user, 3)) sys_s=\(fmt(cpu.sys, 3))")
    }
}

func fmt(_ v: Double, _ digits: Int) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let frac = s[s.index(after: dot)...].count
        if frac < digits { s += String(repeating: "0", count: digits - frac) }
    }
    return s
}
