import Agent
import ConnTest
import Datapath
import Foundation

/// Which `--external-ip` `conntest run` may simulate. Probe traffic must stay on addresses of
/// namespaces we create, so only the benchmarking range 198.18.0.0/15 (never routed out of the
/// machine) is allowed, minus the cluster's own ranges, which the host would shadow. The
/// generator keeps accepting any address: this rule is about traffic, not manifests.
public enum ExternalHostAddress {
    public static let allowedRange = "198.18.0.0/15"
    public static let example = "198.18.200.1"
    /// Node subnet (ClusterSpec.plan), ClusterIPs, pod ranges (198.19.i.0/24).
    public static let clusterRanges = [("nodes", "198.18.0.0/\(ClusterSpec.nodeIPv4Prefix)"),
                                       ("services", ServiceProxy.serviceCIDR), ("pods", "198.19.0.0/16")]

    /// Throws a one-line error naming the flag and the value.
    public static func validate(_ ip: String) throws {
        let flag = "invalid --external-ip \"\(ip)\" for conntest run"
        guard let (family, _) = IPPrefix.parseAddress(ip), family == .v4 else {
            throw ConnTestError("\(flag): the simulated external host is IPv4-only; use an address in \(allowedRange) "
                                + "outside the cluster's ranges, e.g. \(example)")
        }
        guard contains(allowedRange, ip) else {
            throw ConnTestError("\(flag): the simulated external host must be in \(allowedRange) (traffic never "
                                + "leaves the machine), e.g. \(example)")
        }
        if let (what, range) = clusterRanges.first(where: { contains($0.1, ip) }) {
            throw ConnTestError("\(flag): it is inside the cluster's \(what) range \(range); choose another address "
                                + "in \(allowedRange), e.g. \(example)")
        }
    }

    static func contains(_ cidr: String, _ address: String) -> Bool {
        (try? IPPrefix(cidr))?.contains(address) ?? false
    }
}
