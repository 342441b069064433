// `GET /v1beta/status/wide`: the upstream status plus what upstream does not measure (loss,
// jitter, learnt timeouts, the prober's own scheduling delay). A separate endpoint and model, so
// `/v1beta/status` and its text and JSON stay byte-identical to upstream's.

/// Loss and jitter of one probed address, from this node's ICMP bursts.
public struct PathStatisticsStatus: Codable, Sendable, Equatable {
    public var node: String
    public var ip: String
    /// `node` (a host address) or `endpoint` (a health endpoint address), as in upstream's metric labels.
    public var type: String
    /// Echoes sent and answered since the path appeared.
    public var echoes: Int
    public var replies: Int
    /// Percentage of echoes lost over roughly the last 128 (exact mean before that).
    public var lossPercent: Double
    /// RFC 3550 interarrival jitter of the echoes' RTTs, in nanoseconds.
    public var jitter: Int64
    /// Smoothed RTT and the smallest seen, in nanoseconds (0: no reply yet).
    public var rtt: Int64
    public var minRtt: Int64
    /// The ICMP timeout learnt from the path's RTT, in nanoseconds.
    public var timeout: Int64

    public init(node: String, ip: String, type: String, echoes: Int, replies: Int, lossPercent: Double, jitter: Int64, rtt: Int64,
                minRtt: Int64, timeout: Int64) {
        self.node = node
        self.ip = ip
        self.type = type
        self.echoes = echoes
        self.replies = replies
        self.lossPercent = lossPercent
        self.jitter = jitter
        self.rtt = rtt
        self.minRtt = minRtt
        self.timeout = timeout
    }
}

/// The prober measuring itself, so a starved prober is not read as network latency.
public struct ProberSelfStatus: Codable, Sendable, Equatable {
    /// How late the prober's timers fired over the last minute, in nanoseconds.
    public var schedulingDelayP50: Int64
    public var schedulingDelayP99: Int64
    public var schedulingDelayMax: Int64
    /// ICMP bursts per second this prober sent over the last minute (sweep and fast detection).
    public var probesPerSecond: Double
    /// Peers this node watches for fast detection, peers it suspects, peers it confirmed down.
    public var watched: [String]
    public var suspect: Int
    public var down: [String]

    public init(schedulingDelayP50: Int64, schedulingDelayP99: Int64, schedulingDelayMax: Int64, probesPerSecond: Double,
                watched: [String], suspect: Int, down: [String]) {
        self.schedulingDelayP50 = schedulingDelayP50
        self.schedulingDelayP99 = schedulingDelayP99
        self.schedulingDelayMax = schedulingDelayMax
        self.probesPerSecond = probesPerSecond
        self.watched = watched
        self.suspect = suspect
        self.down = down
    }
}

public struct WideStatusResponse: Codable, Sendable, Equatable {
    public var status: HealthStatusResponse
    public var prober: ProberSelfStatus
    public var paths: [PathStatisticsStatus]

    public init(status: HealthStatusResponse, prober: ProberSelfStatus, paths: [PathStatisticsStatus]) {
        self.status = status
        self.prober = prober
        self.paths = paths
    }
}

/// `cilium-health status -o wide`: upstream's table unchanged, then the prober line and one row per path.
public enum WideStatusFormatter {
    public static func format(_ response: WideStatusResponse) -> String {
        var out = HealthStatusFormatter.format(response.status, verbose: false)
        let p = response.prober
        var writer = TabWriter(minWidth: 2, tabWidth: 0, padding: 3, padChar: " ")
        // No tabs: the prober line stays out of the path table's columns.
        writer.write("\nProber: scheduling delay p50 \(duration(p.schedulingDelayP50)), p99 \(duration(p.schedulingDelayP99)), max \(duration(p.schedulingDelayMax)) (last minute); "
            + "\(oneDecimal(p.probesPerSecond)) ICMP bursts/s; watching \(p.watched.count), suspect \(p.suspect), down \(p.down.count)\n")
        writer.write("Name\tIP\tLoss\tJitter\tRTT\tMin RTT\tTimeout\tEchoes\n")
        for path in response.paths {
            writer.write("  \(path.node)\t\(path.ip)\t\(oneDecimal(path.lossPercent) + "%")\t\(duration(path.jitter))"
                + "\t\(path.replies > 0 ? duration(path.rtt) : "-")\t\(path.replies > 0 ? duration(path.minRtt) : "-")"
                + "\t\(duration(path.timeout))\t\(path.replies)/\(path.echoes)\n")
        }
        out += writer.flush()
        return out
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Rounded to the microsecond: nanosecond digits of a jitter estimate are noise.
    static func duration(_ nanoseconds: Int64) -> String {
        goDurationString(nanoseconds: nanoseconds >= 1000 ? (nanoseconds + 500) / 1000 * 1000 : nanoseconds)
    }
}
