import Foundation

/// Validation of IP literals with inet_pton, so a bad node list never reaches a socket.
public enum IPAddressText {
    public static func isIPv4(_ s: String) -> Bool {
        var a = in_addr()
        return inet_pton(AF_INET, s, &a) == 1
    }

    public static func isIPv6(_ s: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, s, &a) == 1
    }

    public static func isValid(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// `host:port` with brackets around IPv6, as Go prints dial addresses.
    public static func hostPort(_ ip: String, _ port: Int) -> String {
        isIPv6(ip) ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
