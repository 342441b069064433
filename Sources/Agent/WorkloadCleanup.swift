import Foundation

/// Removes everything a `conntest run` put on a cluster — pod namespaces, the service table and
/// route in every node, resolv.conf directories, echo servers and DNS processes — found by name
/// and pidfile, so it also cleans up after a crashed or killed run. The cluster itself stays.
public enum WorkloadCleanup {
    /// Programs we start; a pidfile naming anything else is stale (the pid was reused).
    static let ownedPrograms = ["echo-server", "dnsmasq"]

    @discardableResult
    public static func run(layout: StateLayout) -> (namespaces: Int, processes: Int) {
        var stopped = 0
        let dir = layout.workloadDir
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".pid") {
            guard let pid = DetachedProcess.readPidfile("\(dir)/\(file)"), DetachedProcess.isAlive(pid),
                  isOwned(pid) else { continue }
            DetachedProcess.stop(pid, grace: 1)
            stopped += 1
        }
        let pods = Netns.list().filter { $0.hasPrefix(layout.podNamespacePrefix) }
        for ns in pods {
            stopped += Netns.pids(ns).count
            PodNetwork.remove(namespace: ns)
        }
        for ns in Netns.list() where layout.ownsNamespace(ns) && isNodeNamespace(ns, layout) {
            ServiceProxy.remove(namespace: ns)
        }
        ResolvConf.removeAll(owned: layout)
        try? FileManager.default.removeItem(atPath: dir)
        return (pods.count, stopped)
    }

    public static func isNodeNamespace(_ ns: String, _ layout: StateLayout) -> Bool {
        let rest = ns.dropFirst("nh-\(layout.cluster)-".count)
        return rest.hasPrefix("node-") && rest.dropFirst("node-".count).allSatisfy(\.isNumber)
    }

    static func isOwned(_ pid: pid_t) -> Bool {
        guard let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return argv.contains { arg in ownedPrograms.contains((arg as NSString).lastPathComponent) }
    }
}
