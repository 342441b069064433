/// L4 protocol of a compiled rule; `.any` is the datapath's protocol 0 (TCP and
/// UDP for a port, every protocol for port 0).
public enum PolicyL4Protocol: String, Sendable, Hashable, CaseIterable, Comparable {
    case any, tcp, udp

    /// IANA protocol number, as the datapath's `allow(…proto:)` takes it.
    public var number: UInt8 {
        switch self {
        case .any: return 0
        case .tcp: return 6
        case .udp: return 17
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}

/// One allow entry for the datapath: `allow(endpoint:direction:cidr:proto:port:)`.
public struct PolicyRuleSpec: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var direction: PolicyFacts.Direction
    /// `10.0.1.5/32`, `fd00::5/128`, or `0.0.0.0/0` / `::/0` for "any peer".
    public var cidr: String
    public var proto: PolicyL4Protocol
    /// 0 = any port.
    public var port: UInt16

    public init(direction: PolicyFacts.Direction, cidr: String, proto: PolicyL4Protocol = .any, port: UInt16 = 0) {
        self.direction = direction
        self.cidr = cidr
        self.proto = proto
        self.port = port
    }

    public var isIPv6: Bool { cidr.contains(":") }

    public var description: String {
        "\(direction.rawValue) \(cidr) \(proto.rawValue) \(port == 0 ? "*" : String(port))"
    }

    /// Egress before ingress, IPv4 before IPv6, then address, protocol, port.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        func key(_ r: Self) -> (Int, Int, String, UInt8, UInt16) {
            (r.direction == .egress ? 0 : 1, r.isIPv6 ? 1 : 0, r.cidr, r.proto.number, r.port)
        }
        return key(lhs) < key(rhs)
    }
}
