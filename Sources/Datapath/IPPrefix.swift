import Foundation

public enum IPFamily: UInt8, Sendable, Hashable {
    case v4 = 4
    case v6 = 6
}

/// An IPv4 or IPv6 CIDR ("198.18.0.0/15", "fd00::/8"); a bare address is a host prefix.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    public let family: IPFamily
    /// 16 bytes; IPv4 uses the first 4. Host bits are zeroed.
    public let bytes: [UInt8]
    public let length: Int

    public init(_ text: String) throws {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addr = String(parts.first ?? "")
        guard let (family, raw) = IPPrefix.parseAddress(addr) else {
            throw BPFError(operation: "parse CIDR \(text)", code: EINVAL)
        }
        let maxLen = family == .v4 ? 32 : 128
        var len = maxLen
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...maxLen).contains(l) else {
                throw BPFError(operation: "parse CIDR \(text)", code: EINVAL)
            }
            len = l
        }
        var b = raw
        for i in 0..<16 {
            let bitStart = i * 8
            if bitStart >= len { b[i] = 0 } else if bitStart + 8 > len {
                b[i] &= UInt8(truncatingIfNeeded: 0xFF << (8 - (len - bitStart)))
            }
        }
        self.family = family
        self.bytes = b
        self.length = len
    }

    /// Parses a bare IPv4/IPv6 address into (family, 16 bytes).
    public static func parseAddress(_ s: String) -> (IPFamily, [UInt8])? {
        var out = [UInt8](repeating: 0, count: 16)
        if s.contains(":") {
            let ok = out.withUnsafeMutableBytes { inet_pton(AF_INET6, s, $0.baseAddress) }
            return ok == 1 ? (.v6, out) : nil
        }
        let ok = out.withUnsafeMutableBytes { inet_pton(AF_INET, s, $0.baseAddress) }
        return ok == 1 ? (.v4, out) : nil
    }

    /// Formats 16 address bytes (IPv4 in the first 4).
    public static func format(_ bytes: [UInt8], family: IPFamily) -> String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let af = family == .v4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { src in
            inet_ntop(af, src.baseAddress, &buf, socklen_t(buf.count))
        }
        guard ok != nil else { return "?" }
        return stringFromCBuffer(buf)
    }

    /// Whether `address` (a bare IPv4/IPv6 address of this prefix's family) lies inside it.
    public func contains(_ address: String) -> Bool {
        guard let masked = try? IPPrefix("\(address)/\(length)"), masked.family == family else { return false }
        return masked.bytes == bytes
    }

    public var address: String { IPPrefix.format(bytes, family: family) }
    public var description: String { "\(address)/\(length)" }
}
