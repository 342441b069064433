// Text output of `cilium-health status` (1.17+ layout, upstream FormatHealthStatusResponse).

public enum HealthStatusFormatter {
    /// The aligned text as `cilium-health status` prints it: the unaligned text run through
    /// a tabwriter with upstream's settings (minwidth 2, tabwidth 0, padding 3, ' ').
    ///
    /// - Parameters:
    ///   - verbose: print a per-node block instead of a one-line row.
    ///   - allNodes: print rows for healthy nodes too (`cilium-health status` passes true).
    ///   - maxLines: stop after this many printed nodes (the localhost row is always printed
    ///     and counts). Like upstream the check is `printed == maxLines`, so 0 only limits
    ///     when there is no localhost node; pass `.max` for no limit.
    public static func format(_ response: HealthStatusResponse, verbose: Bool, allNodes: Bool = true,
                              maxLines: Int = .max) -> String {
        var writer = TabWriter(minWidth: 2, tabWidth: 0, padding: 3, padChar: " ")
        writer.write(formatUnaligned(response, verbose: verbose, allNodes: allNodes, maxLines: maxLines))
        return writer.flush()
    }

    /// The tab-separated text before alignment. Upstream writes it into the caller's
    /// tabwriter, so `cilium status`-style callers can embed it in their own output.
    public static func formatUnaligned(_ response: HealthStatusResponse, verbose: Bool, allNodes: Bool = true,
                                       maxLines: Int = .max) -> String {
        let nodes = response.nodes
        // Nodes left out of probing (cordoned or NotReady) count neither way.
        let skipped = nodes.count(where: \.notProbed)
        let healthy = nodes.count { $0.isHealthy && !$0.notProbed }
        // Upstream keeps the last node whose name equals the local name.
        let localIndex = response.local.flatMap { local in nodes.lastIndex { $0.name == local.name } }

        var out = "Cluster health:\t\(healthy)/\(nodes.count - skipped) reachable\t(\(response.timestamp))"
        // Deviation: upstream 1.17+ prints this cell even when the interval is empty.
        if let interval = response.probeInterval, !interval.isEmpty {
            out += "\t(Probe interval: \(interval))"
        }
        if skipped > 0 { out += "\t(\(skipped) not probed: cordoned or NotReady)" }
        out += "\nName\tIP\tNode\tEndpoints\n"

        var printed = 0
        if let localIndex, appendNode(nodes[localIndex], localhost: true, allNodes: allNodes, verbose: verbose, to: &out) {
            printed += 1
        }
        // Byte-wise name order like Go's strings.Compare; stable for duplicate names.
        let order = nodes.indices.sorted { lhs, rhs in
            let (a, b) = (nodes[lhs].name, nodes[rhs].name)
            return a.utf8.lexicographicallyPrecedes(b.utf8) || (a == b && lhs < rhs)
        }
        for index in order {
            if printed == maxLines { break }
            if index == localIndex { continue }
            if appendNode(nodes[index], localhost: false, allNodes: allNodes, verbose: verbose, to: &out) {
                printed += 1
            }
        }
        if nodes.count - printed - healthy - skipped > 0 {
            out += "  ...\n"
        }
        return out
    }

    /// Appends a node's row (or verbose block); returns whether anything was printed.
    private static func appendNode(_ node: NodeStatus, localhost: Bool, allNodes: Bool, verbose: Bool,
                                   to out: inout String) -> Bool {
        let state = node.nodeState.map { $0.joined(separator: ",") } ?? ""
        let label = "  " + node.name + (localhost ? " (localhost)" : "") + (state.isEmpty || node.notProbed ? "" : " (\(state))")
        if verbose {
            out += label + ":\n"
            if node.notProbed {
                out += "    Not probed:\t\(state)\n"
                return true
            }
            appendPath(node.host?.primaryAddress, name: "Host", to: &out)
            for path in node.host?.secondaryAddresses ?? [] {
                appendPath(path, name: "Secondary Host", to: &out)
            }
            appendPath(node.healthEndpoint?.primaryAddress, name: "Endpoint", to: &out)
            for path in node.healthEndpoint?.secondaryAddresses ?? [] {
                appendPath(path, name: "Secondary Endpoint", to: &out)
            }
            return true
        }

        if node.notProbed {
            guard allNodes else { return false }
            out += "\(label)\t\(node.tableIPText)\t\(state)\tnot probed\n"
            return true
        }
        let host = node.hostSummary
        let endpoint = node.endpointSummary
        guard allNodes || !(host.healthy && endpoint.healthy) else { return false }
        out += "\(label)\t\(node.tableIPText)\t\(host.cellText)\t\(endpoint.cellText)\n"
        return true
    }

    private static func appendPath(_ path: PathStatus?, name: String, to out: inout String) {
        let indent = "    "
        guard let path else {
            out += "\(indent)\(name) connectivity:\tnil\n"
            return
        }
        out += "\(indent)\(name) connectivity to \(path.ip):\n"
        if let icmp = path.icmp { appendStatus(icmp, label: "ICMP to stack", to: &out) }
        if let http = path.http { appendStatus(http, label: "HTTP to agent", to: &out) }
    }

    private static func appendStatus(_ status: ConnectivityStatus, label: String, to out: inout String) {
        out += "      \(label):\t"
        out += status.status.isEmpty ? "OK, RTT=" + goDurationString(nanoseconds: status.latency) : status.status
        // Deviation: upstream 1.17+ prints "(Last probed: )" even when the time is missing.
        if let probed = status.lastProbed, !probed.isEmpty {
            out += "\t(Last probed: \(probed))"
        }
        out += "\n"
    }
}
