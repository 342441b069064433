import Foundation

/// Faults a node's uplink (eth0) with nftables inside the node's namespace, so that traffic to the
/// node and to its health endpoint suffers while the node's own loopback and endpoint paths do not.
///
/// Delay: the kernel has no netem, so inbound packets go to NFQUEUE `delayQueue`, where `nfq-delay`
/// (started by `LocalCluster.fault`) holds each one `delayMs` before accepting it. Only inbound
/// traffic is delayed, so every round trip through the node (peers' pings and HTTP probes to it,
/// its own probes' replies) grows by `delayMs` once, not twice. The queue rule is an iptables
/// (nf_tables backend) rule, not part of the nft table: this kernel lacks nft's native `queue`
/// expression (CONFIG_NFT_QUEUE) but has the xt NFQUEUE target through nft_compat.
public struct FaultSpec: Codable, Sendable, Equatable {
    public enum Drop: String, Codable, Sendable, CaseIterable {
        /// `dataplane` is `all` except traffic with the control plane: the node stays Ready in the API
        /// and its kubelet keeps writing pod status, while its pods and health paths lose the network.
        case icmp, http, all, dataplane
    }

    public var drop: Set<Drop> = []
    /// Percentage of inbound packets dropped at random.
    public var lossPercent: Int?
    /// Milliseconds every inbound packet is held (absent in fault files written before delays existed).
    public var delayMs: Int?

    public init(drop: Set<Drop> = [], lossPercent: Int? = nil, delayMs: Int? = nil) {
        self.drop = drop
        self.lossPercent = lossPercent
        self.delayMs = delayMs
    }

    public var isEmpty: Bool { drop.isEmpty && lossPercent == nil && delayMs == nil }
    /// Whether the nft table has anything to do (the delay lives in iptables).
    var hasNftRules: Bool { !drop.isEmpty || lossPercent != nil }

    /// Upper bound for `delayMs`: longer holds would just look like loss to every prober.
    public static let maxDelayMs = 10_000

    static let table = "nethealth_fault"
    /// NFQUEUE numbers are per network namespace, so every node can use the same one.
    static let delayQueue = 4240

    /// The complete nft table; replaced atomically on every change. `controlPlane` are the addresses
    /// a `dataplane` black hole still lets through.
    func ruleset(controlPlane: [String] = []) -> String {
        var inbound: [String] = []
        var outbound: [String] = []
        if drop.contains(.all) {
            inbound.append("iifname \"eth0\" drop")
            outbound.append("oifname \"eth0\" drop")
        }
        if drop.contains(.icmp) {
            inbound.append("iifname \"eth0\" icmp type { echo-request, echo-reply } drop")
            inbound.append("iifname \"eth0\" icmpv6 type { echo-request, echo-reply } drop")
        }
        if drop.contains(.http) {
            inbound.append("iifname \"eth0\" tcp dport 4240 drop")
            inbound.append("iifname \"eth0\" tcp sport 4240 drop")
        }
        if let loss = lossPercent, loss > 0 {
            inbound.append("iifname \"eth0\" numgen random mod 100 < \(loss) drop")
        }
        if drop.contains(.dataplane), !drop.contains(.all) {
            // Last, so loss and the other drops still apply to control-plane traffic.
            let v4 = controlPlane.filter { !$0.contains(":") }, v6 = controlPlane.filter { $0.contains(":") }
            if !v4.isEmpty {
                inbound.append("iifname \"eth0\" ip saddr { \(v4.joined(separator: ", ")) } accept")
                outbound.append("oifname \"eth0\" ip daddr { \(v4.joined(separator: ", ")) } accept")
            }
            if !v6.isEmpty {
                inbound.append("iifname \"eth0\" ip6 saddr { \(v6.joined(separator: ", ")) } accept")
                outbound.append("oifname \"eth0\" ip6 daddr { \(v6.joined(separator: ", ")) } accept")
            }
            inbound.append("iifname \"eth0\" drop")
            outbound.append("oifname \"eth0\" drop")
        }
        func chain(_ name: String, _ hook: String, _ rules: [String]) -> String {
            "  chain \(name) {\n    type filter hook \(hook) priority -10; policy accept;\n"
                + rules.map { "    \($0)\n" }.joined() + "  }\n"
        }
        return "table inet \(Self.table) {\n"
            + chain("input", "input", inbound)
            + chain("forward", "forward", inbound + outbound)
            + chain("output", "output", outbound)
            + "}\n"
    }

    func apply(namespace ns: String, controlPlane: [String] = []) throws {
        // One nft transaction: declaring the table first makes the delete valid even when it does
        // not exist yet, and the node never passes through an unfaulted state between changes.
        let script = "table inet \(Self.table)\ndelete table inet \(Self.table)\n"
            + (hasNftRules ? ruleset(controlPlane: controlPlane) : "")
        let r = try Netns.exec(ns, ["nft", "-f", "-"], input: script)
        guard r.status == 0 else { throw AgentError("nft failed in \(ns): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        try applyDelay(namespace: ns)
    }

    // MARK: delay rules

    static let delayChain = "NETHEALTH_DELAY"

    /// The filter-table rules, exactly as `iptables -S` prints them, that hand inbound packets to
    /// nfq-delay. The iptables filter hooks run at priority 0, after the drop and loss rules (-10),
    /// so dropped packets are not delayed. `--queue-bypass` accepts packets while nothing is bound
    /// to the queue, so a dead nfq-delay never black-holes the node.
    static let delayRules = [
        "-N \(delayChain)",
        "-A INPUT -j \(delayChain)",
        "-A FORWARD -j \(delayChain)",
        "-A \(delayChain) -i eth0 -j NFQUEUE --queue-num \(delayQueue) --queue-bypass",
    ]

    /// Input for `iptables-restore --noflush`: adds the chain and its jumps in one transaction.
    static var delayRestoreScript: String {
        "*filter\n:\(delayChain) - [0:0]\n" + delayRules.dropFirst().joined(separator: "\n") + "\nCOMMIT\n"
    }

    /// iptables arguments that remove the delay rules among `listing` (lines of `iptables -S`).
    static func delayRemoval(_ listing: [String]) -> [[String]] {
        let ours = listing.filter { $0.contains(delayChain) }
        var commands = ours.filter { $0.hasPrefix("-A INPUT ") || $0.hasPrefix("-A FORWARD ") }
            .map { ["-D"] + $0.split(separator: " ").dropFirst().map(String.init) }
        if ours.contains("-N \(delayChain)") { commands += [["-F", delayChain], ["-X", delayChain]] }
        return commands
    }

    /// Brings the IPv4 and IPv6 queue rules in line with `delayMs`. The rules do not depend on the
    /// delay's value (nfq-delay holds that), so intact rules are left alone.
    func applyDelay(namespace ns: String) throws {
        for tool in ["iptables", "ip6tables"] {
            let listing = try Netns.exec(ns, [tool, "-w", "-S"])
            guard listing.status == 0 else {
                throw AgentError("\(tool) -S failed in \(ns): \(listing.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            let ours = listing.stdout.split(separator: "\n").map(String.init).filter { $0.contains(Self.delayChain) }
            if delayMs != nil, Set(ours) == Set(Self.delayRules) { continue }
            for args in Self.delayRemoval(ours) { _ = try Netns.exec(ns, [tool, "-w"] + args) }
            guard delayMs != nil else { continue }
            let r = try Netns.exec(ns, ["\(tool)-restore", "--noflush"], input: Self.delayRestoreScript)
            guard r.status == 0 else {
                throw AgentError("\(tool)-restore failed in \(ns): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
    }
}
