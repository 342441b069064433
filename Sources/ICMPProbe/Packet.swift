/// ICMP echo encoding/decoding. Wire layout: type, code, checksum, identifier, sequence, payload.
enum EchoPacket {
    static let payloadSize = 56  // same as ping's default, so packets are 64 bytes of ICMP
    static let headerSize = 8

    static let v4EchoRequest: UInt8 = 8
    static let v4EchoReply: UInt8 = 0
    static let v6EchoRequest: UInt8 = 128
    static let v6EchoReply: UInt8 = 129

    /// Builds an echo request. The payload starts with the pinger's 8-byte nonce so replies to another
    /// pinger that happens to share our identifier are not mistaken for ours.
    static func build(family: ICMPFamily, identifier: UInt16, sequence: UInt16, nonce: UInt64) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: headerSize + payloadSize)
        p[0] = family == .v4 ? v4EchoRequest : v6EchoRequest
        p[4] = UInt8(identifier >> 8); p[5] = UInt8(identifier & 0xff)
        p[6] = UInt8(sequence >> 8); p[7] = UInt8(sequence & 0xff)
        for i in 0..<8 { p[headerSize + i] = UInt8(truncatingIfNeeded: nonce >> (8 * UInt64(i))) }
        for i in (headerSize + 8)..<p.count { p[i] = UInt8(truncatingIfNeeded: i) }
        if family == .v4 {  // the kernel fills the ICMPv6 checksum (it needs the pseudo-header), not ICMPv4's
            let c = checksum(p)
            p[2] = UInt8(c >> 8); p[3] = UInt8(c & 0xff)
        }
        return p
    }

    /// RFC 1071 internet checksum.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum &+= UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) &+ (sum >> 16) }
        return ~UInt16(truncatingIfNeeded: sum)
    }

    struct Reply {
        let identifier: UInt16
        let sequence: UInt16
        let nonce: UInt64
    }

    /// Parses an echo reply. IPv4 raw sockets deliver the IP header first (length from IHL);
    /// IPv6 raw sockets deliver the bare ICMPv6 message. Returns nil for anything else.
    static func parseReply(family: ICMPFamily, _ buf: UnsafeRawBufferPointer) -> Reply? {
        var off = 0
        if family == .v4 {
            guard buf.count >= 20, buf[0] >> 4 == 4 else { return nil }
            off = Int(buf[0] & 0x0f) * 4
            guard off >= 20 else { return nil }
        }
        guard buf.count >= off + headerSize + 8 else { return nil }
        let want = family == .v4 ? v4EchoReply : v6EchoReply
        guard buf[off] == want, buf[off + 1] == 0 else { return nil }
        let id = UInt16(buf[off + 4]) << 8 | UInt16(buf[off + 5])
        let seq = UInt16(buf[off + 6]) << 8 | UInt16(buf[off + 7])
        var nonce: UInt64 = 0
        for i in 0..<8 { nonce |= UInt64(buf[off + headerSize + i]) << (8 * UInt64(i)) }
        return Reply(identifier: id, sequence: seq, nonce: nonce)
    }
}
