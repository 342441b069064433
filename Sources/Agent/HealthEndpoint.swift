import Foundation
import Logging

/// The node's health endpoint: a namespace behind a veth (`lxc_health` on the node, `cilium`
/// inside), holding the health IPs and running `cilium-health-responder`. Runs inside the node's
/// namespace, as the upstream agent's controller does.
struct HealthEndpoint {
    let layout: StateLayout
    let spec: ClusterSpec
    let node: ClusterSpec.NodeSpec
    let logger: Logger

    var namespace: String { layout.healthNamespace(node.name) }

    /// Tears down what a previous run left and builds the endpoint afresh.
    func create() throws -> pid_t {
        remove()
        let h = namespace
        try Netns.add(h)
        if spec.ipv6 {
            // No duplicate address detection on either end: while the veth's link-local addresses are
            // tentative (~1.5 s) neighbour discovery fails, and a probe right after `up` (5 echoes in
            // 100 ms) would read the endpoint's IPv6 address as unreachable.
            try Netns.sysctl(h, ["net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"])
            try Command.check(["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"])
        }
        try Command.check(["ip", "link", "add", "lxc_health", "type", "veth", "peer", "name", "cilium", "netns", h])
        try Command.check(["ip", "addr", "add", "\(node.routerIPv4)/32", "dev", "lxc_health"])
        try Command.check(["ip", "link", "set", "lxc_health", "up"])
        try Command.check(["ip", "route", "add", "\(node.healthIPv4)/32", "dev", "lxc_health"])
        try Netns.ip(h, "link", "set", "lo", "up")
        if !spec.ipv6 { try Netns.sysctl(h, ["net.ipv6.conf.all.disable_ipv6=1"]) }
        try Netns.ip(h, "addr", "add", "\(node.healthIPv4)/32", "dev", "cilium")
        try Netns.ip(h, "link", "set", "cilium", "up")
        try Netns.ip(h, "route", "add", "\(node.routerIPv4)/32", "dev", "cilium")
        try Netns.ip(h, "route", "add", "default", "via", node.routerIPv4, "dev", "cilium")
        if let router6 = node.routerIPv6, let health6 = node.healthIPv6 {
            try Command.check(["ip", "-6", "addr", "add", "\(router6)/128", "dev", "lxc_health", "nodad"])
            try Command.check(["ip", "-6", "route", "add", "\(health6)/128", "dev", "lxc_health"])
            try Netns.ip(h, "-6", "addr", "add", "\(health6)/128", "dev", "cilium", "nodad")
            try Netns.ip(h, "-6", "route", "add", "\(router6)/128", "dev", "cilium")
            try Netns.ip(h, "-6", "route", "add", "default", "via", router6, "dev", "cilium")
        }
        let pidfile = layout.healthEndpointPidfile(node.name)
        unlink(pidfile)
        let responder = DetachedProcess.executableDirectory + "/cilium-health-responder"
        let pid = try DetachedProcess.spawn(
            ["nsenter", "--net=/run/netns/\(h)", responder, "--listen", "4240", "--pidfile", pidfile],
            logPath: layout.healthEndpointLog(node.name))
        logger.info("health endpoint started", metadata: ["netns": "\(h)", "ip": "\(node.healthIPv4)", "pid": "\(pid)"])
        return pid
    }

    /// Until the responder `pid` listens (it writes its pidfile then), at most `timeout`.
    func waitUntilServing(_ pid: pid_t, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while DetachedProcess.readPidfile(layout.healthEndpointPidfile(node.name)) != pid {
            guard ContinuousClock.now < deadline, DetachedProcess.isAlive(pid) else {
                logger.warning("health endpoint responder not serving yet, probing anyway", metadata: ["pid": "\(pid)"])
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func remove() {
        if let pid = DetachedProcess.readPidfile(layout.healthEndpointPidfile(node.name)) { DetachedProcess.stop(pid, grace: 1) }
        for pid in Netns.pids(namespace) { DetachedProcess.stop(pid, grace: 1) }
        _ = try? Command.run(["ip", "link", "del", "lxc_health"])
        _ = try? Command.run(["ip", "link", "del", "cilium_health"])  // upstream's legacy name
        Netns.delete(namespace)
    }
}
