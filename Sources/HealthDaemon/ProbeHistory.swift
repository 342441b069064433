import Foundation
import HealthAPI
import HealthHistory
import ICMPProbe

// What the prober hands to its `ProbeRecorder`: kept here so HealthProber only makes one call.

extension NodeProbeTargets {
    /// The history's name for `ip` of this node, or nil if the address is not this node's.
    func historyTarget(_ ip: String, protocol proto: String) -> HistoryTarget? {
        let path: String
        if host.contains(ip) { path = "host" } else if healthEndpoint.contains(ip) { path = "endpoint" } else { return nil }
        return HistoryTarget(node: name, ip: ip, path: path, family: ip.contains(":") ? "ipv6" : "ipv4", protocol: proto)
    }
}

extension ProbeResult {
    init(target: HistoryTarget, status: ConnectivityStatus, unanswered: Int, time: Date = Date()) {
        self.init(target: target, time: time, rttNanoseconds: status.status.isEmpty ? status.latency : nil,
                  error: status.status.isEmpty ? nil : status.status, unanswered: unanswered)
    }
}
