import Glibc

/// A 128-bit address key; IPv4 is stored in the low 32 bits with `hi == 0` (families are never mixed
/// because each family has its own socket and table lookups include the family).
struct AddrKey: Hashable, Sendable {
    var hi: UInt64
    var lo: UInt64
}

/// A parsed probe target: family, key for reply matching and the sockaddr to send to.
struct Target: Sendable {
    let family: ICMPFamily
    let key: AddrKey
    let sin: sockaddr_in
    let sin6: sockaddr_in6

    /// Parses an IPv4 or IPv6 literal; IPv6 may carry a `%zone` (interface name or index).
    static func parse(_ text: String) -> Target? {
        var a4 = in_addr()
        if !text.contains(":"), inet_pton(AF_INET, text, &a4) == 1 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_addr = a4
            return Target(family: .v4, key: key(of: a4), sin: sin, sin6: sockaddr_in6())
        }
        var host = Substring(text)
        var scope: UInt32 = 0
        if let pct = text.firstIndex(of: "%") {
            host = text[..<pct]
            let zone = String(text[text.index(after: pct)...])
            if zone.isEmpty { return nil }
            if let n = UInt32(zone) {
                scope = n
            } else {
                scope = if_nametoindex(zone)
                if scope == 0 { return nil }
            }
        }
        var a6 = in6_addr()
        guard inet_pton(AF_INET6, String(host), &a6) == 1 else { return nil }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_addr = a6
        sin6.sin6_scope_id = scope
        return Target(family: .v6, key: key(of: a6), sin: sockaddr_in(), sin6: sin6)
    }

    static func key(of a: in_addr) -> AddrKey {
        AddrKey(hi: 0, lo: UInt64(a.s_addr))
    }

    static func key(of a: in6_addr) -> AddrKey {
        var a = a
        return withUnsafeBytes(of: &a) { raw in
            AddrKey(hi: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                    lo: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }
}

/// An IP literal (IPv6 with an optional `%zone`, parsed as `Target.parse` does) and a port, as the
/// kernel takes them: for the TCP sockets of other probes.
public struct PeerAddress: Sendable {
    public let family: Int32
    private let storage: sockaddr_storage
    private let length: socklen_t

    /// nil if `ip` is not an IP literal or `port` is out of range.
    public init?(ip: String, port: Int) {
        guard (0...65535).contains(port), let target = Target.parse(ip) else { return nil }
        let networkPort = in_port_t(UInt16(port).bigEndian)
        var storage = sockaddr_storage()
        switch target.family {
        case .v4:
            var sin = target.sin
            sin.sin_port = networkPort
            (family, length) = (AF_INET, Self.store(sin, in: &storage))
        case .v6:
            var sin6 = target.sin6
            sin6.sin6_port = networkPort
            (family, length) = (AF_INET6, Self.store(sin6, in: &storage))
        }
        self.storage = storage
    }

    private static func store<Address>(_ address: Address, in storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { destination in withUnsafeBytes(of: address) { destination.copyMemory(from: $0) } }
        return socklen_t(MemoryLayout<Address>.size)
    }

    /// Calls `body` with the address as `sockaddr` and its length, for connect(2)/sendto(2).
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

/// Go-style error text: "op: lower-cased strerror".
func errnoText(_ op: String, _ code: Int32) -> String {
    guard let c = strerror(code) else { return "\(op): errno \(code)" }
    var s = String(cString: c)
    if let f = s.first, f.isUppercase, !(s.dropFirst().first?.isUppercase ?? false) {
        s = f.lowercased() + s.dropFirst()
    }
    return "\(op): \(s)"
}
