import Foundation
import HTTPSupport
import HealthDaemon
import Hummingbird
import KubeClient
import Logging
import ServiceLifecycle

/// cilium-health for one node of any Kubernetes cluster (`agent kubernetes-health`, the process of
/// deploy/'s health-daemon DaemonSet): the Kubernetes node source (Nodes, our endpoint pods,
/// CiliumNodes, all watched), the agent API's `/v1/cluster/nodes` diffs from it on a unix socket,
/// and the health daemon polling that socket, as it polls a Cilium agent. It needs nothing but the
/// API server: no cluster file, no local state.
public struct KubernetesHealthDaemon {
    public struct Options: Sendable {
        /// kubeconfig file; nil: $KUBECONFIG, else the pod's service account (in-cluster config).
        public var kubeconfig: String?
        public var context: String?
        /// This node's Node name (the DaemonSet passes spec.nodeName).
        public var nodeName: String
        /// The `<cluster>/` prefix of node names in the health API (Cilium's cluster-name).
        public var clusterName: String
        /// Holds health.sock (the health API) and agent.sock (the agent API the daemon polls).
        public var socketDirectory: String
        public var endpointSelector: String
        /// Where the endpoint pods run; nil: the service account's namespace (else every one); "*": every one.
        public var endpointNamespace: String?
        public var probeRatio: Double
        public var icmpBurst: Int
        public var probeUnavailableNodes: Bool
        public var responderPort: Int
        /// nil: no /metrics.
        public var metricsPort: Int?
        public var historyPath: String?
        /// Bound on the wait for the first node list (and this node in it).
        public var startTimeout: Duration

        public init(kubeconfig: String? = nil, context: String? = nil, nodeName: String, clusterName: String = "default",
                    socketDirectory: String = KubernetesHealthDaemon.socketDirectory,
                    endpointSelector: String = KubernetesNodes.defaultEndpointSelector, endpointNamespace: String? = nil,
                    probeRatio: Double = 0.5, icmpBurst: Int = HealthProber.Settings().icmpBurst,
                    probeUnavailableNodes: Bool = false, responderPort: Int = 4240, metricsPort: Int? = 9962,
                    historyPath: String? = nil, startTimeout: Duration = .seconds(60)) {
            self.kubeconfig = kubeconfig
            self.context = context
            self.nodeName = nodeName
            self.clusterName = clusterName
            self.socketDirectory = socketDirectory
            self.endpointSelector = endpointSelector
            self.endpointNamespace = endpointNamespace
            self.probeRatio = probeRatio
            self.icmpBurst = icmpBurst
            self.probeUnavailableNodes = probeUnavailableNodes
            self.responderPort = responderPort
            self.metricsPort = metricsPort
            self.historyPath = historyPath
            self.startTimeout = startTimeout
        }
    }

    /// The hostPath deploy/ mounts for the sockets (distinct from Cilium's /var/run/cilium).
    public static let socketDirectory = "/var/run/cilium-health"

    public let options: Options
    public let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        let o = options
        let connection = try Self.connection(kubeconfig: o.kubeconfig, context: o.context)
        let client = try KubeClient(connection, timeout: .seconds(5))
        let namespace = o.endpointNamespace == "*" ? nil : (o.endpointNamespace ?? connection.namespace)
        let nodes = KubernetesNodes(client: client, clusterName: o.clusterName, endpointSelector: o.endpointSelector,
                                    endpointNamespace: namespace)
        let watch = Task { await nodes.watchLoop() }
        // Whatever ends the daemon, the watches stop and the client closes before it goes away.
        var failure: (any Error)?
        do { try await serve(nodes) } catch { failure = error }
        watch.cancel()
        await watch.value
        await client.shutdown()
        if let failure { throw failure }
    }

    private func serve(_ nodes: KubernetesNodes) async throws {
        let o = options
        // The /hello responder and metrics answer on this node's own addresses, as upstream's do.
        guard await nodes.waitUntilSynced(timeout: o.startTimeout) else {
            let why = await nodes.nodes.lastError.map { "\($0)" } ?? "no answer"
            throw AgentError("cannot list the cluster's nodes within \(o.startTimeout): \(why)")
        }
        guard let me = await nodes.node(named: o.nodeName) else {
            throw AgentError("node '\(o.nodeName)' is not among the cluster's Nodes (is --node-name spec.nodeName?)")
        }
        let addresses = (me.status?.addresses ?? []).filter { $0.type == "InternalIP" }.map(\.address)
        guard !addresses.isEmpty else { throw AgentError("node '\(o.nodeName)' has no InternalIP to answer probes on") }

        try FileManager.default.createDirectory(atPath: o.socketDirectory, withIntermediateDirectories: true)
        let agentSocket = o.socketDirectory + "/agent.sock"
        try UnixSocketFile.prepare(agentSocket)
        let selfName = "\(o.clusterName)/\(o.nodeName)"
        let agentAPI = Application(
            router: AgentAPIRoutes.router(nodes: nodes, selfName: selfName, tracker: NodeDiffTracker()),
            server: HTTPServerLimits.standard.server,
            configuration: .init(address: .unixDomainSocket(path: agentSocket)),
            onServerRunning: UnixSocketFile.restrictWhenBound(agentSocket, group: nil, logger: logger),
            logger: logger)
        var config = HealthDaemonConfig(
            socketPath: o.socketDirectory + "/health.sock", agent: .unix(path: agentSocket),
            responderAddresses: addresses, responderPort: o.responderPort, probeRatio: o.probeRatio,
            probing: HealthProber.Settings(icmpBurst: o.icmpBurst, probeUnavailableNodes: o.probeUnavailableNodes,
                                           nodeRefresh: HealthProber.watchedNodeRefresh),
            metricsAddresses: o.metricsPort == nil ? [] : addresses, metricsPort: o.metricsPort ?? 9962)
        config.historyPath = o.historyPath
        let health = try HealthDaemon(config: config, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [agentAPI] + health.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("cilium-health running", metadata: ["node": "\(selfName)", "sockets": "\(o.socketDirectory)",
                                                        "addresses": "\(addresses.joined(separator: ","))"])
        try await group.run()
    }

    /// kubectl's order: the file given, else $KUBECONFIG, else in-cluster.
    static func connection(kubeconfig: String?, context: String?,
                           environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubeConnection {
        if let path = kubeconfig ?? environment["KUBECONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try KubeConfig(path: path).connection(context: context)
        }
        return try KubeConfig.inCluster(environment: environment)
    }
}
