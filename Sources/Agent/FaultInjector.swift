import Foundation

/// Faults a node's uplink (eth0) with nftables inside the node's namespace, so that traffic to the
/// node and to its health endpoint suffers while the node's own loopback and endpoint paths do not.
public struct FaultSpec: Codable, Sendable, Equatable {
    public enum Drop: String, Codable, Sendable, CaseIterable {
        case icmp, http, all
    }

    public var drop: Set<Drop> = []
    /// Percentage of inbound packets dropped at random.
    public var lossPercent: Int?

    public init(drop: Set<Drop> = [], lossPercent: Int? = nil) {
        self.drop = drop
        self.lossPercent = lossPercent
    }

    public var isEmpty: Bool { drop.isEmpty && lossPercent == nil }

    static let table = "nethealth_fault"

    /// The complete nft table; replaced atomically on every change.
    func ruleset() -> String {
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

    func apply(namespace ns: String) throws {
        _ = try Netns.exec(ns, ["nft", "delete", "table", "inet", Self.table])
        guard !isEmpty else { return }
        let r = try Netns.exec(ns, ["nft", "-f", "-"], input: ruleset())
        guard r.status == 0 else { throw AgentError("nft failed in \(ns): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }
}
