/// Upstream derives most of a check from its name (defaults.cue, services.cue).
/// Keeping the same rules means a new check needs only a well-chosen name.
public enum NameDrivenDefaults {
    public enum Placement: Equatable, Sendable {
        case anywhere
        /// Required podAffinity to the named echo pod (same node).
        case sameNode(as: String)
        /// Required podAntiAffinity to the named echo pod (another node).
        case otherNode(than: String)
    }

    /// `intra-node` / `multi-node` anywhere in the name set the topology label.
    public static func topology(for name: String) -> Topology {
        if name.contains("intra-node") { return .intraNode }
        if name.contains("multi-node") { return .multiNode }
        return .any
    }

    /// `…to-X-intra-node-…` sits next to echo-X, `…to-X-multi-node-…` away from it.
    public static func placement(for name: String) -> Placement {
        for server in ["a", "b", "c"] {
            if name.contains("to-\(server)-intra-node-") { return .sameNode(as: "echo-\(server)") }
            if name.contains("to-\(server)-multi-node-") { return .otherNode(than: "echo-\(server)") }
        }
        return .anywhere
    }

    /// Default probe target `host:port` from the name; nil when the name says nothing.
    /// A `-headless` suffix always means echo-b's headless service (as upstream).
    public static func probeTarget(for name: String, echoPort: Int = 8080) -> String? {
        let isNameToken = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        if isNameToken && name.hasSuffix("-headless") && name.count > "-headless".count {
            return "echo-b-headless:\(echoPort)"
        }
        for server in ["a", "b", "c"] where name.hasPrefix("pod-to-\(server)") || name.hasPrefix("host-to-\(server)") {
            return "echo-\(server):\(echoPort)"
        }
        return nil
    }
}
