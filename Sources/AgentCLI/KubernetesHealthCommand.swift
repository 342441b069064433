import Agent
import ArgumentParser
import Foundation
import HealthDaemon
import Logging

/// `agent kubernetes-health`: the process of deploy/'s health-daemon DaemonSet.
struct KubernetesHealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubernetes-health",
        abstract: "Run cilium-health for this node of a Kubernetes cluster (the health-daemon DaemonSet's process).",
        discussion: """
            Learns the cluster's nodes from the Kubernetes API alone: Nodes (InternalIP and \
            ExternalIP of both families), the pods of the health-endpoint DaemonSet (by \
            --endpoint-selector, their IPs are the nodes' health endpoints) and, where Cilium's CRDs \
            are served, CiliumNode spec.health. All three are watched (a new Node is probed within \
            a second of its object; a watch that expires resumes, a 410 lists again). It serves \
            them as the agent API's /v1/cluster/nodes diffs on <socket-dir>/agent.sock to the health \
            daemon, whose API is <socket-dir>/health.sock (cilium-health -H unix://…); the /hello \
            responder answers on this node's InternalIPs at --responder-port.

            Nodes that are NotReady or cordoned (Unschedulable) are listed by `cilium-health \
            status` with their state and not probed, so they are not counted unreachable; \
            --probe-unavailable-nodes probes them too.

            Credentials: --kubeconfig, else $KUBECONFIG, else the pod's service account \
            (KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/kubernetes.io/serviceaccount). \
            RBAC: get/list/watch on nodes, pods and ciliumnodes (deploy/).
            """)

    @Option(name: .long, help: ArgumentHelp("kubeconfig file (default: $KUBECONFIG, else the in-cluster service account).", valueName: "file"))
    var kubeconfig: String?
    @Option(name: .long, help: "kubeconfig context (default: its current-context).")
    var context: String?
    @Option(name: .long, help: ArgumentHelp("This node's Node name (default: $NODE_NAME, which deploy/ sets from spec.nodeName).", valueName: "name"))
    var nodeName: String?
    @Option(name: .long, help: "Cluster name, the prefix of node names in the health API (Cilium's cluster-name).")
    var clusterName: String = "default"
    @Option(name: .long, help: ArgumentHelp("Directory of health.sock and agent.sock.", valueName: "dir"))
    var socketDir: String = KubernetesHealthDaemon.socketDirectory
    @Option(name: .long, help: "Label selector of the health-endpoint DaemonSet's pods.")
    var endpointSelector: String = KubernetesNodes.defaultEndpointSelector
    @Option(name: .long, help: ArgumentHelp("Namespace of the endpoint pods (default: the service account's namespace; '*' for every namespace).", valueName: "namespace"))
    var endpointNamespace: String?
    @Flag(name: .long, help: "Probe NotReady and cordoned (Unschedulable) nodes too, instead of listing them unprobed.")
    var probeUnavailableNodes = false
    @Option(name: .long, parsing: .unconditional, help: "connectivity-probe-frequency-ratio, in [0, 1]; 0 probes most often.")
    var probeRatio: Double = 0.5
    @Option(name: .long, parsing: .unconditional, help: "Echoes per ICMP probe, 1-20.")
    var icmpBurst: Int = HealthProber.Settings().icmpBurst
    @Option(name: .long, parsing: .unconditional, help: "TCP port of the /hello responder and of peers' responders.")
    var responderPort: Int = 4240
    @Option(name: .long, parsing: .unconditional, help: "Port of Prometheus /metrics on this node's InternalIPs; 0 disables it.")
    var metricsPort: Int = 9962
    @Option(name: .long, help: ArgumentHelp("Keep the probe history in this SQLite file (default: none).", valueName: "file"))
    var historyDb: String?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Give up when the API server has not listed the nodes (with this one among them) within this many seconds.", valueName: "seconds"))
    var startTimeout: Int = 60

    func validate() throws {
        guard (0...1).contains(probeRatio) else { throw ValidationError("--probe-ratio must be in [0, 1], got \(probeRatio)") }
        guard HealthProber.Settings.burstRange.contains(icmpBurst) else {
            throw ValidationError("--icmp-burst must be 1-20, got \(icmpBurst)")
        }
        guard (1...65535).contains(responderPort) else { throw ValidationError("--responder-port must be 1-65535, got \(responderPort)") }
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0-65535, got \(metricsPort)") }
        guard !socketDir.isEmpty else { throw ValidationError("--socket-dir must not be empty") }
        guard (1...3600).contains(startTimeout) else { throw ValidationError("--start-timeout must be 1-3600 seconds, got \(startTimeout)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let env = ProcessInfo.processInfo.environment
        guard let node = nodeName ?? env["NODE_NAME"], !node.isEmpty else {
            throw ValidationError("give --node-name or set $NODE_NAME (deploy/ sets it from spec.nodeName)")
        }
        let options = KubernetesHealthDaemon.Options(
            kubeconfig: kubeconfig, context: context, nodeName: node, clusterName: clusterName, socketDirectory: socketDir,
            endpointSelector: endpointSelector, endpointNamespace: endpointNamespace, probeRatio: probeRatio, icmpBurst: icmpBurst,
            probeUnavailableNodes: probeUnavailableNodes, responderPort: responderPort,
            metricsPort: metricsPort == 0 ? nil : metricsPort, historyPath: historyDb, startTimeout: .seconds(startTimeout))
        try await KubernetesHealthDaemon(options: options, logger: Logger(label: "cilium-health.\(node)")).run()
    }
}
