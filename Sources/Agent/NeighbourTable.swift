import Foundation

/// The kernel's neighbour (ARP / NDP) tables are shared by every network namespace, and their
/// limit (`net.ipv4.neigh.default.gc_thresh3`, 1024 by default) lives only in the host's: a cluster
/// of N nodes on one bridge needs about N² entries (every node resolves every other one), so past
/// ~30 nodes the table overflows ("neighbour: arp_cache: neighbor table overflow!" in dmesg), sends
/// fail with ENOBUFS and whole nodes look unreachable. `cluster up` raises the limits to fit.
struct NeighbourTable {
    /// The host's `/proc/sys` (a parameter so the arithmetic is tested without touching the host).
    var procSys = "/proc/sys"

    /// Entries a cluster uses: every other node and the control plane, plus a node's own pods and
    /// health endpoint (both ends of each veth).
    static func entries(nodes: Int) -> Int { nodes * (nodes + 16) }

    /// The thresholds for `needed` entries given the current ones: never lowered; thresh3 leaves
    /// the host and other clusters as much again, thresh2 and thresh1 keep the kernel's 1:4:8 ratio.
    static func thresholds(needed: Int, current: [Int]) -> [Int]? {
        guard current.count == 3, current[2] < 2 * needed else { return nil }
        let third = 2 * needed
        return [max(current[0], third / 8), max(current[1], third / 2), third]
    }

    /// Raises the IPv4 (and with `ipv6` the IPv6) thresholds when the cluster would not fit, and
    /// says what it changed. Left raised at `down`: another cluster may need them, and a larger
    /// table costs memory only for entries in use.
    func ensureCapacity(nodes: Int, ipv6: Bool, progress: (String) -> Void) throws {
        let needed = Self.entries(nodes: nodes)
        for family in ["ipv4"] + (ipv6 ? ["ipv6"] : []) {
            let paths = (1...3).map { "\(procSys)/net/\(family)/neigh/default/gc_thresh\($0)" }
            let current = paths.compactMap { path in
                (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            guard let wanted = Self.thresholds(needed: needed, current: current) else { continue }
            // Highest first: the kernel requires thresh1 <= thresh2 <= thresh3 at every step.
            for i in [2, 1, 0] where wanted[i] != current[i] {
                do {
                    try Data("\(wanted[i])\n".utf8).write(to: URL(fileURLWithPath: paths[i]))
                } catch {
                    throw AgentError("cannot raise \(paths[i]) to \(wanted[i]) for \(nodes) nodes (about \(needed) neighbour entries): \(error)")
                }
            }
            progress("raised net.\(family).neigh.default.gc_thresh3 \(current[2]) → \(wanted[2]): \(nodes) nodes need about "
                     + "\(needed) neighbour entries, and the kernel's table is shared by all namespaces")
        }
    }
}
