import Foundation
import HTTPSupport
import HealthDaemon
import Hummingbird
import KubeClient
import Logging
import ServiceLifecycle

/// One node's agent process (`agent node run`): the agent API, the health endpoint and the health
/// daemon; with a control plane also its node's registration, kubelet, proxy/DNS and policy roles.
/// A cluster in `--health daemonset` mode leaves the health endpoint and daemon to the DaemonSets
/// of deploy/, which this agent then runs as their kubelet.
public struct NodeAgent {
    public let layout: StateLayout
    public let nodeName: String
    public let logger: Logger

    public init(layout: StateLayout, nodeName: String, logger: Logger) {
        self.layout = layout
        self.nodeName = nodeName
        self.logger = logger
    }

    public func run() async throws {
        let spec = try ClusterSpec.load(layout.specPath)
        guard let node = spec.node(named: nodeName) else {
            throw AgentError("node '\(nodeName)' is not in cluster '\(spec.name)' (\(layout.specPath))")
        }
        try AtomicFile.write(Data("\(getpid())\n".utf8), to: layout.agentPidfile(nodeName))

        let ownHealth = spec.healthMode == .agent
        let endpoint = HealthEndpoint(layout: layout, spec: spec, node: node, logger: logger)
        let responder = ownHealth ? try endpoint.create() : nil

        let nodeIPs = [node.ipv4] + (node.ipv6.map { [$0] } ?? [])
        let agentSocket = layout.agentSocket(nodeName)
        try UnixSocketFile.prepare(agentSocket)
        let socketGroup = try UnixSocketFile.resolveGroup(spec.socketGroup)
        // With a control plane, the Kubernetes API is the source of nodes (the cluster file is out of the loop).
        var kubernetes: [any Service] = []
        var nodeList: any ClusterNodeList = ClusterFileNodes(layout: layout)
        let drops = DropBroadcast()
        var policy: PolicyDatapath?
        if let kube = spec.kubernetes {
            let connection = try KubeConfig(path: layout.nodeKubeconfig(nodeName)).connection()
            let client = try KubeClient(connection, timeout: .seconds(5))
            kubernetes.append(NodeRegistration(client: client, node: node, kube: kube, clusterName: spec.name,
                                               healthAnnotations: ownHealth, logger: logger))
            kubernetes.append(KubeletRole(client: client, node: node, layout: layout, logger: logger))
            kubernetes.append(ServiceRole(client: client, node: node, layout: layout, logger: logger))
            let datapath = PolicyDatapath(node: node.name, objectPath: spec.policyObject,
                                          unavailable: spec.policyObjectError, broadcast: drops, logger: logger)
            kubernetes.append(PolicyRole(client: client, spec: spec, node: node, datapath: datapath, logger: logger))
            policy = datapath
            let kubeNodes = KubernetesNodes(client: client, clusterName: spec.name)
            kubernetes.append(NodeListRefresh(nodes: kubeNodes, logger: logger))
            nodeList = kubeNodes
        }
        let agentAPI = Application(
            router: AgentAPIRoutes.router(nodes: nodeList, selfName: spec.fullName(node), tracker: NodeDiffTracker(),
                                          policy: policy, drops: drops),
            server: HTTPServerLimits.standard.server,
            configuration: .init(address: .unixDomainSocket(path: agentSocket)),
            onServerRunning: UnixSocketFile.restrictWhenBound(agentSocket, group: socketGroup, logger: logger),
            logger: logger)

        var services: [any Service] = [agentAPI] + kubernetes
        if let responder {
            services += try healthServices(spec: spec, node: node, endpoint: endpoint, responder: responder,
                                           agentSocket: agentSocket, socketGroup: socketGroup, nodeIPs: nodeIPs)
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("agent running", metadata: ["node": "\(spec.fullName(node))", "socket": "\(agentSocket)"])
        try await group.run()
        if ownHealth { endpoint.remove() }
    }

    /// The agent's health socket also where deploy/'s DaemonSet serves its own, on the node's
    /// hostPath, so a pod mounting that hostPath (conntest's cilium-health check) finds the node's
    /// health API in either health mode.
    private func publishHealthSocketOnHostPath() throws {
        let link = layout.nodeHostPath(nodeName, KubernetesHealthDaemon.socketDirectory + "/health.sock")
        try FileManager.default.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        unlink(link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: layout.healthSocket(nodeName))
    }

    /// The health daemon and the endpoint controller (the agent's own, in `--health agent` mode).
    private func healthServices(spec: ClusterSpec, node: ClusterSpec.NodeSpec, endpoint: HealthEndpoint, responder: pid_t,
                                agentSocket: String, socketGroup: gid_t?, nodeIPs: [String]) throws -> [any Service] {
        var healthConfig = HealthDaemonConfig(
            socketPath: layout.healthSocket(nodeName), socketGroup: socketGroup, agent: .unix(path: agentSocket),
            responderAddresses: nodeIPs, probeRatio: spec.probeRatio,
            probing: HealthProber.Settings(icmpBurst: spec.icmpBurst ?? HealthProber.Settings().icmpBurst,
                                           // The cluster file is read per ask; the Kubernetes view is in memory.
                                           nodeRefresh: spec.kubernetes == nil ? HealthProber.defaultNodeRefresh
                                                                               : HealthProber.watchedNodeRefresh),
            metricsAddresses: nodeIPs)
        healthConfig.historyPath = layout.historyDatabase(nodeName)
        healthConfig.beforeFirstRound = { [endpoint] in await endpoint.waitUntilServing(responder, timeout: .seconds(5)) }
        let health = try HealthDaemon(config: healthConfig, logger: logger)
        try publishHealthSocketOnHostPath()

        let timing = spec.endpointCheck ?? .upstream
        let controller = HealthEndpointController(endpoint: endpoint, healthIP: node.healthIPv4, logger: logger,
                                                  checkEvery: .seconds(timing.checkSeconds),
                                                  relaunchAfter: .seconds(timing.relaunchAfterSeconds))
        return health.services + [controller]
    }
}

/// Upstream's `cilium-health-ep` controller: checks the endpoint every 60 s and relaunches it
/// after 5 minutes without a successful `/hello` (both settable per cluster).
struct HealthEndpointController: Service {
    let endpoint: HealthEndpoint
    let healthIP: String
    let logger: Logger
    let checkEvery: Duration
    let relaunchAfter: Duration

    func run() async throws {
        let probe = HTTPProbe(port: 4240, timeout: .seconds(5))
        await cancelWhenGracefulShutdown { await watch(probe) }
        await probe.shutdown()
    }

    private func watch(_ probe: HTTPProbe) async {
        var lastSuccess = ContinuousClock.now
        while !Task.isCancelled {
            if case .ok = await probe.probe(healthIP) {
                lastSuccess = .now
            } else if ContinuousClock.now - lastSuccess >= relaunchAfter {
                logger.warning("health endpoint unreachable, relaunching", metadata: ["after": "\(relaunchAfter)"])
                do { _ = try endpoint.create() } catch { logger.error("relaunch failed: \(error)") }
                lastSuccess = .now
            }
            try? await Task.sleep(for: checkEvery)
        }
    }
}
