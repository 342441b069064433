import Agent
import ArgumentParser
import CommandLineSupport
import Foundation
import HTTPSupport
import HealthDaemon
import Logging

@main
struct AgentMain {
    static func main() async { await CommandMain.run(AgentCommand.self) }
}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "The node agent: hosts the health daemon and runs a local multi-node cluster.",
        discussion: """
            A local cluster is N nodes as network namespaces on this machine, joined by a bridge in a \
            namespace of its own. Each node runs one `agent node run` process: the agent API \
            (cilium.sock), the health API (health.sock), the /hello responder on :4240 and a health \
            endpoint namespace. Needs root (network namespaces and raw ICMP sockets).

            Unless --no-kubernetes is given, `cluster up` also starts a Kubernetes control plane \
            (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) that the nodes join, \
            and writes a kubeconfig for kubectl on this machine.

            Quick start:
              agent cluster up --nodes 3
              export KUBECONFIG=/run/nethealth/local/kubeconfig; kubectl get nodes -o wide
              agent cluster exec node-1 -- cilium-health status --probe
              agent cluster down
            """,
        subcommands: [ClusterCommand.self, NodeCommand.self, KubernetesHealthCommand.self, MonitorCommand.self, ControlPlaneCommand.self])
}

struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: "Cluster name (1-20 lowercase letters, digits or '-').")
    var name: String = "local"

    func validate() throws {
        try asUsageError { try StateLayout.validate(clusterName: name) }
    }

    /// Every cluster operation but `list` changes namespaces and links, which needs root.
    func cluster() throws -> LocalCluster {
        guard geteuid() == 0 else {
            throw AgentError("local clusters need root (network namespaces, veth links, raw ICMP sockets): run with sudo")
        }
        return try LocalCluster(name: name)
    }
}

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Create, inspect, fault and remove local clusters.",
        subcommands: [Up.self, Down.self, List.self, Exec.self, Fault.self, Policy.self, Heatmap.self, Supervise.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring up a local cluster (idempotent).",
            discussion: """
                Nodes get 198.18.0.(10+i)/24 and pod range 198.19.i.0/24; with --ipv6 also \
                fd00:198::(10+i)/64 and fd00:199:0:i::/64.

                The control plane (Kubernetes \(ControlPlaneBinaries.version)) runs in namespace \
                nh-<name>-cp at 198.18.0.2:6443 on the cluster bridge; kubectl on this machine reaches \
                it through 127.0.0.1:<port> (see the kubeconfig). Its binaries come from \
                scripts/build-kubernetes.sh (once per machine, about 5 min; cached in \
                \(ControlPlaneBinaries.directory)). Each node registers its Node and renews its Lease \
                every 2 s; a node whose agent stops goes NotReady after 10 s. Waits up to 90 s for the \
                apiserver and 60 s for the nodes to be Ready.
                """)

        @Option(name: .long, parsing: .unconditional, help: "Number of nodes (1-200; default 3).")
        var nodes: Int?
        @OptionGroup var cluster: ClusterOptions
        @Flag(name: .long, inversion: .prefixedNo,
              help: "Dual-stack: add IPv6 addresses (secondary paths) to nodes and health endpoints (default: IPv4 only).")
        var ipv6: Bool?
        @Option(name: .long, parsing: .unconditional, help: "connectivity-probe-frequency-ratio for the agents, in [0, 1]; 0 probes most often (default 0.5).")
        var probeRatio: Double?
        @Option(name: .long, parsing: .unconditional, help: "Echoes per ICMP probe, 1-20: a sequenced burst, 20 ms apart, that measures loss and jitter (default 5).")
        var icmpBurst: Int?
        @Option(name: .long, parsing: .unconditional, help: "Seconds between the agent's checks of its health endpoint, 0.1-3600 (upstream and default: 60).")
        var endpointCheckInterval: Double?
        @Option(name: .long, parsing: .unconditional, help: "Seconds without a successful check before the health endpoint is rebuilt, 0.1-86400 (upstream and default: 300).")
        var endpointRelaunchAfter: Double?
        @Option(name: .long, help: ArgumentHelp("Group that may use the nodes' cilium.sock and health.sock (mode 0660), e.g. a monitoring user's; root keeps them root-only (default: cilium if that group exists, else root).", valueName: "group"))
        var socketGroup: String?
        @Flag(name: .long, inversion: .prefixedNo,
              help: "Start a Kubernetes control plane that the nodes join (--no-kubernetes: namespaces and agents only; default: with one).")
        var kubernetes: Bool?
        @Option(name: .long, help: ArgumentHelp("""
            Who runs cilium-health on the nodes: agent (each node agent runs its health daemon and \
            endpoint; default) or daemonset (the agents leave both to the DaemonSets of deploy/, applied \
            with kubectl, which they run as kubelets; `cluster exec NODE -- cilium-health` then talks to \
            the DaemonSet's health.sock on the node's hostPath). daemonset needs the control plane.
            """, valueName: "mode"))
        var health: ClusterSpec.HealthMode?

        var request: ClusterUpRequest {
            var r = ClusterUpRequest(nodes: nodes, ipv6: ipv6, probeRatio: probeRatio,
                             endpointCheckSeconds: endpointCheckInterval, endpointRelaunchSeconds: endpointRelaunchAfter,
                             socketGroup: socketGroup, kubernetes: kubernetes)
            r.icmpBurst = icmpBurst
            r.health = health
            r.kubernetesByDefault = true
            return r
        }

        func validate() throws {
            try asUsageError { try request.validate() }
        }

        func run() async throws {
            let c = try cluster.cluster()
            let started = ContinuousClock.now
            let result = try await c.up(request) { print($0) }
            let count = (try? c.loadSpec().nodes.count) ?? 0
            switch result {
            case .alreadyUp: print("cluster '\(c.name)' is already up with \(count) nodes")
            case .repaired(let nodes):
                print("cluster '\(c.name)' is up: \(count) nodes, repaired \(nodes.isEmpty ? "(no node needed it)" : nodes.joined(separator: ", ")) in \(formatSeconds(ContinuousClock.now - started))")
            case .created:
                print("cluster '\(c.name)' is up: \(count) nodes in \(formatSeconds(ContinuousClock.now - started))")
            }
            print("try: agent cluster exec\(c.name == "local" ? "" : " --name \(c.name)") node-1 -- cilium-health status --probe")
            if (try? c.loadSpec())?.kubernetes != nil {
                print("""
                    kubeconfig: \(c.layout.kubeconfigPath)
                      export KUBECONFIG=\(c.layout.kubeconfigPath)
                      kubectl get nodes -o wide
                    """)
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a local cluster: its processes, namespaces, links and files (also after a crash).")
        @OptionGroup var cluster: ClusterOptions

        func run() async throws {
            let c = try cluster.cluster()
            let removed = try c.down()
            print("cluster '\(c.name)' removed: \(removed.namespaces) namespaces, \(removed.processes) processes")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List local clusters.")
        @Option(name: .long, help: "Show only this cluster.")
        var name: String?

        func run() async throws {
            let all = LocalCluster.list().filter { name == nil || $0.name == name }
            guard !all.isEmpty else {
                print("no local clusters")
                return
            }
            var rows = [["NAME", "NODES", "IPV6", "AGENTS"]]
            for s in all {
                rows.append([s.name, "\(s.nodes)", s.ipv6 ? "yes" : "no",
                             s.orphaned ? "orphaned (run down)" : "\(s.agentsRunning)/\(s.nodes) running"])
            }
            let widths = (0..<4).map { col in rows.map { $0[col].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0] + 3, withPad: " ", startingAt: 0) }
                    .joined().trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command inside a node's network namespace.",
            discussion: "The node's health socket is the default -H of cilium-health there ($CILIUM_HEALTH_SOCK).")
        @OptionGroup var cluster: ClusterOptions
        @Argument(help: "Node name, e.g. node-1.")
        var node: String
        @Argument(parsing: .postTerminator, help: "The command, after --.")
        var command: [String] = []

        func run() async throws {
            try cluster.cluster().exec(node: node, command: command)
        }
    }

    struct Fault: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inject or clear a network fault on a node's uplink (netfilter rules in the node's namespace).",
            discussion: """
                Faults apply to traffic entering or leaving the node over eth0, so peers see the node \
                (and its health endpoint) degrade. --drop, --loss and --delay combine; --clear removes all.

                --delay holds every packet entering the node over eth0 for MS milliseconds (an NFQUEUE \
                rule served by the nfq-delay program, which runs in the node's namespace until --clear \
                or `cluster down`): round trips through the node grow by MS once, since replies \
                leaving it are not delayed. If nfq-delay dies, packets pass undelayed.
                """)
        @OptionGroup var cluster: ClusterOptions
        @Argument(help: "Node name, e.g. node-2.")
        var node: String
        @Option(name: .long, help: "Drop traffic: icmp (echo), http (TCP 4240), all (black-hole), or dataplane (black-hole except the control plane: the node stays Ready and its pods keep their status in the API, but lose the network).")
        var drop: FaultSpec.Drop?
        @Option(name: .long, parsing: .unconditional, help: "Drop this percentage (1-100) of inbound packets at random.")
        var loss: Int?
        @Option(name: .long, parsing: .unconditional, help: "Delay inbound packets by this many milliseconds (1-\(FaultSpec.maxDelayMs)); replaces an earlier delay.")
        var delay: Int?
        @Flag(name: .long, help: "Remove every fault from the node.")
        var clear = false

        func validate() throws {
            if drop == nil, loss == nil, delay == nil, !clear {
                throw ValidationError("give --drop icmp|http|all|dataplane, --loss PCT, --delay MS or --clear")
            }
            if let loss, !(1...100).contains(loss) { throw ValidationError("--loss must be 1-100, got \(loss)") }
            if let delay, !(1...FaultSpec.maxDelayMs).contains(delay) {
                throw ValidationError("--delay must be 1-\(FaultSpec.maxDelayMs) milliseconds, got \(delay)")
            }
        }

        func run() async throws {
            let fault = try cluster.cluster().fault(node: node) { f in
                if clear { f = FaultSpec() }
                if let drop { f.drop.insert(drop) }
                if let loss { f.lossPercent = loss }
                if let delay { f.delayMs = delay }
            }
            if fault.isEmpty {
                print("\(node): no faults")
            } else {
                var parts = fault.drop.map(\.rawValue).sorted().map { "drop \($0)" }
                if let loss = fault.lossPercent { parts.append("loss \(loss)%") }
                if let delay = fault.delayMs { parts.append("delay \(delay) ms") }
                print("\(node): \(parts.joined(separator: ", "))")
            }
        }
    }
}

extension FaultSpec.Drop: ExpressibleByArgument {}
extension ClusterSpec.HealthMode: ExpressibleByArgument {}
extension LocalCluster.PolicyAction: ExpressibleByArgument {}

extension ClusterCommand {
    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detach, re-attach or show the nodes' eBPF policy datapaths.",
            discussion: """
                Each node agent compiles the cluster's CiliumNetworkPolicies, \
                CiliumClusterwideNetworkPolicies and NetworkPolicies every second and programs them on \
                the veths of the pods it runs. `detach` takes the programs off (the pods are then not \
                enforced and raise no drops) and keeps them off until `attach`, so a check can be shown \
                to depend on enforcement. `status` shows each node's endpoints, their rules and the \
                policies or rules it does not enforce (-o json: the agents' GET /v1/policy answers).
                Examples:
                  agent cluster policy detach --all
                  agent cluster policy attach node-1
                  agent cluster policy status -o json
                """)
        @OptionGroup var cluster: ClusterOptions
        @Argument(help: ArgumentHelp("detach, attach or status.", valueName: "action"))
        var action: LocalCluster.PolicyAction
        @Argument(help: "Nodes (default for status: every node).")
        var nodes: [String] = []
        @Flag(name: .long, help: "Every node of the cluster.")
        var all = false
        @Option(name: .shortAndLong, help: "Output format: text or json.")
        var output: String = "text"

        func validate() throws {
            if action != .status, nodes.isEmpty, !all { throw ValidationError("name the nodes to \(action.rawValue), or give --all") }
            if all, !nodes.isEmpty { throw ValidationError("give node names or --all, not both") }
            guard ["text", "json"].contains(output) else { throw ValidationError("-o must be text or json, got '\(output)'") }
        }

        func run() async throws {
            let statuses = try await cluster.cluster().policy(action, nodes: nodes)
            if output == "json" {
                print(String(decoding: try JSONResponse.encode(statuses), as: UTF8.self))
                return
            }
            for s in statuses {
                let enforced = s.endpoints.filter { $0.egressEnforced || $0.ingressEnforced }.count
                print("\(s.node): \(s.state)\(s.message.isEmpty ? "" : " (\(s.message))"), \(s.endpoints.count) endpoints "
                      + "(\(enforced) enforced), \(s.pending.count) pending")
                for note in s.notes { print("  \(note)") }
            }
        }
    }
}

extension ClusterCommand {
    struct Heatmap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the cluster's node × node heatmap of latest RTTs from every node's health API.",
            discussion: "The same picture as `cilium-health heatmap` with every node's --api; .svg, or .png with rsvg-convert.")
        @OptionGroup var cluster: ClusterOptions
        @Option(name: [.short, .long], help: ArgumentHelp("The file to write: NAME.svg or NAME.png.", valueName: "file"))
        var output: String

        func validate() throws {
            try asUsageError { _ = try ChartFile.validate(output) }
        }

        func run() async throws {
            let c = try cluster.cluster()
            let spec = try c.loadSpec()
            let view = await ClusterView.gather(spec.nodes.map { .unix(path: spec.healthSocket($0.name, layout: c.layout)) })
            for problem in view.failures { FileHandle.standardError.write(Data("warning: no row for \(problem)\n".utf8)) }
            try ChartFile.write(ClusterView.heatmap(view.statuses), to: output)
            print("wrote \(output): \(view.statuses.count) of \(spec.nodes.count) nodes' views")
        }
    }
}

extension ClusterCommand {
    /// Started by `cluster up`, stopped by `cluster down`: restarts node agents that die.
    struct Supervise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restart the cluster's node agents when they die (started by `cluster up`).",
            shouldDisplay: false)
        @OptionGroup var cluster: ClusterOptions
        @Option(name: .long, help: "State directory root.")
        var stateDir: String = StateLayout.defaultRoot

        func run() async throws {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            let supervisor = AgentSupervisor(layout: StateLayout(cluster: cluster.name, root: stateDir))
            try await supervisor.run(logger: Logger(label: "supervisor.\(cluster.name)"))
        }
    }
}

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Per-node agent process (started by `cluster up`).",
        subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one node's agent in the current network namespace.")
        @Option(name: .long, help: "Cluster name.")
        var cluster: String = "local"
        @Option(name: .long, help: "Node name, e.g. node-1.")
        var node: String
        @Option(name: .long, help: "State directory root.")
        var stateDir: String = StateLayout.defaultRoot

        func run() async throws {
            try StateLayout.validate(clusterName: cluster)
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            let logger = Logger(label: "agent.\(node)")
            try await NodeAgent(layout: StateLayout(cluster: cluster, root: stateDir), nodeName: node, logger: logger).run()
        }
    }
}

/// Plumbing of the control plane that `cluster up` starts; not for use by hand.
struct ControlPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-plane", abstract: "Control-plane helper processes (started by `cluster up`).",
        shouldDisplay: false, subcommands: [Forward.self])

    struct Forward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forward connections from an inherited listening socket to HOST:PORT in this namespace.")
        @Option(name: .long, help: "The inherited listening socket's descriptor.")
        var listenFd: Int32
        @Option(name: .long, help: "Where to connect, HOST:PORT.")
        var connect: String

        func run() async throws {
            guard let colon = connect.lastIndex(of: ":"), let port = Int(connect[connect.index(after: colon)...]),
                  (1...65535).contains(port) else {
                throw ValidationError("--connect must be HOST:PORT, got '\(connect)'")
            }
            try await TCPForwarder(listenFD: listenFd, targetHost: String(connect[..<colon]), targetPort: port).run()
        }
    }
}


