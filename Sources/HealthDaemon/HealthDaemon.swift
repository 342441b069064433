import Foundation
import HTTPSupport
import HealthAPI
import HealthHistory
import Hummingbird
import ICMPProbe
import Logging
import ServiceLifecycle

/// Settings of the health subsystem that runs inside each node's agent.
public struct HealthDaemonConfig: Sendable {
    public var socketPath: String
    /// Group given the API socket (mode 0660); nil leaves root's group.
    public var socketGroup: gid_t?
    public var agent: APIEndpoint
    /// Node addresses the `/hello` responder binds (upstream: node internal IPv4/IPv6).
    public var responderAddresses: [String]
    public var responderPort: Int
    public var probeRatio: Double
    /// ICMP burst size, fast-detection timing.
    public var probing: HealthProber.Settings
    /// UDP port of the suspicion gossip, on the first responder address; nil: no gossip (each
    /// agent then learns of a failure only from its own watch or sweep probes).
    public var gossipPort: Int?
    /// Addresses serving Prometheus `/metrics` (upstream's agent port 9962); empty disables it.
    public var metricsAddresses: [String]
    public var metricsPort: Int
    /// Awaited before the first probe round (e.g. until the local health endpoint serves), so
    /// the round that fills a fresh view at once does not record a responder still starting.
    public var beforeFirstRound: (@Sendable () async -> Void)?
    /// The probe history's SQLite file; nil keeps no history.
    public var historyPath: String?
    public var historyRetention: HistoryRetention = .standard
    /// Size of the "worst K pairs" gauge set.
    public var worstPairs = 10

    public init(socketPath: String, socketGroup: gid_t? = nil, agent: APIEndpoint, responderAddresses: [String], responderPort: Int = 4240,
                probeRatio: Double = 0.5, probing: HealthProber.Settings = .init(), gossipPort: Int? = SuspicionGossip.defaultPort,
                metricsAddresses: [String] = [], metricsPort: Int = 9962) {
        self.probing = probing
        self.gossipPort = gossipPort
        self.metricsAddresses = metricsAddresses
        self.metricsPort = metricsPort
        self.socketPath = socketPath
        self.socketGroup = socketGroup
        self.agent = agent
        self.responderAddresses = responderAddresses
        self.responderPort = responderPort
        self.probeRatio = probeRatio
    }
}

/// Wires the prober, the REST API and the responder into lifecycle services.
public struct HealthDaemon: Sendable {
    public let prober: HealthProber
    public let services: [any Service]

    public init(config: HealthDaemonConfig, logger: Logger) throws {
        let history = try config.historyPath.map {
            HistoryWriter(store: try HistoryStore(path: $0, retention: config.historyRetention, logger: logger), logger: logger)
        }
        let pinger = try ICMPPinger()
        let http = HTTPProbe(port: config.responderPort)
        let prober = HealthProber(source: AgentNodeSource(agent: config.agent), pinger: pinger, http: http,
                                  interval: try ProbeInterval(ratio: config.probeRatio),
                                  settings: config.probing, metrics: HealthMetrics(worstK: config.worstPairs),
                                  recorder: history, logger: logger)
        try UnixSocketFile.prepare(config.socketPath)
        let api = Application(
            router: HealthAPIRoutes.router(prober: prober, agent: APIClient(endpoint: config.agent, timeout: .seconds(5)),
                                           startedAt: .now, history: history?.store),
            server: HTTPServerLimits.standard.server,
            configuration: .init(address: .unixDomainSocket(path: config.socketPath)),
            onServerRunning: UnixSocketFile.restrictWhenBound(config.socketPath, group: config.socketGroup, logger: logger),
            logger: logger)
        let responders = HelloResponder.applications(addresses: config.responderAddresses, port: config.responderPort,
                                                     logger: logger)
        let metrics = config.metricsAddresses.map { address in
            Application(router: MetricsRoutes.router(prober: prober, history: history?.store), server: HTTPServerLimits.standard.server,
                        configuration: .init(address: .hostname(address, port: config.metricsPort)), logger: logger)
        }
        let gossip: [any Service] = zip(config.responderAddresses.prefix(1), [config.gossipPort].compactMap { $0 }).map {
            SuspicionGossip(bindAddress: $0, port: $1, prober: prober, logger: logger)
        }
        self.prober = prober
        self.services = [api] + responders.map { $0 as any Service } + metrics.map { $0 as any Service } + gossip
            + [ProberService(prober: prober, pinger: pinger, http: http, beforeFirstRound: config.beforeFirstRound)]
            + (history.map { [HistoryService(writer: $0)] } ?? [])
    }
}

/// Writes queued probe results in batches and maintains the store until graceful shutdown.
struct HistoryService: Service {
    let writer: HistoryWriter

    func run() async throws {
        await cancelWhenGracefulShutdown { await writer.run() }
    }
}

/// Runs the probe loop until graceful shutdown.
struct ProberService: Service {
    let prober: HealthProber
    let pinger: ICMPPinger
    let http: HTTPProbe
    let beforeFirstRound: (@Sendable () async -> Void)?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await beforeFirstRound?()
            await prober.run()
        }
        pinger.close()
        await http.shutdown()
    }
}
