import Foundation

/// Waits for a freshly spawned server to listen, so that the first client (a probe, a DNS query)
/// does not race its bind: polls `ss` in the server's namespace every 20 ms up to a bound.
public enum ListenWait {
    public enum Outcome: Equatable {
        case listening, exited, timedOut
    }

    /// `address` nil matches any local address; `udp` selects UDP sockets instead of TCP listeners.
    public static func wait(namespace ns: String, port: Int, address: String? = nil, udp: Bool = false,
                            pid: pid_t, timeout: TimeInterval = 5) -> Outcome {
        let filter = (address.map { ["src", $0] } ?? []) + ["sport", "= :\(port)"]
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard DetachedProcess.isAlive(pid) else { return .exited }
            if let r = try? Netns.exec(ns, ["ss", udp ? "-Hlun" : "-Hltn"] + filter), r.status == 0, !r.stdout.isEmpty {
                return .listening
            }
            usleep(20_000)
        }
        return .timedOut
    }
}
