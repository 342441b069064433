import Foundation
import KubeClient
import Logging

/// Events as kubelet records them: source `kubelet` on this host, `involvedObject` the pod (with
/// `fieldPath spec.containers{c}` for container events), and a repeat of the same reason and
/// message bumps `count` and `lastTimestamp` instead of adding an event (`(x6 over 56s)`).
actor PodEvents {
    let client: KubeClient
    let host: String
    let logger: Logger
    private var seen: [String: (name: String, count: Int, first: String)] = [:]

    init(client: KubeClient, host: String, logger: Logger) {
        self.client = client
        self.host = host
        self.logger = logger
    }

    func record(_ pod: Pod, container: String?, type: String = "Warning", reason: String, message: String) async {
        let ns = pod.metadata.namespace ?? "default"
        let podName = pod.metadata.name ?? ""
        let key = [pod.metadata.uid ?? podName, container ?? "", reason, message].joined(separator: "\u{1}")
        let now = KubeTime.time(Date())
        do {
            if var known = seen[key] {
                known.count += 1
                seen[key] = known
                struct Bump: Encodable { var count: Int; var lastTimestamp: String }
                try await client.mergePatch("/api/v1/namespaces/\(ns)/events/\(known.name)", Bump(count: known.count, lastTimestamp: now))
                return
            }
            let name = "\(podName).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            var involved: [String: String] = ["kind": "Pod", "namespace": ns, "name": podName, "apiVersion": "v1",
                                              "uid": pod.metadata.uid ?? ""]
            if let container { involved["fieldPath"] = "spec.containers{\(container)}" }
            let event: [String: Any] = [
                "apiVersion": "v1", "kind": "Event",
                "metadata": ["name": name, "namespace": ns],
                "involvedObject": involved, "reason": reason, "message": message, "type": type,
                "source": ["component": "kubelet", "host": host],
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": "kubelet", "reportingInstance": host,
            ]
            try await client.request(.POST, "/api/v1/namespaces/\(ns)/events",
                                     body: try JSONSerialization.data(withJSONObject: event))
            seen[key] = (name, 1, now)
        } catch {
            logger.warning("cannot record event \(reason) for \(ns)/\(podName): \(error)")
        }
    }

    func forget(uid: String) {
        seen = seen.filter { !$0.key.hasPrefix(uid + "\u{1}") }
    }
}
