import Foundation
import KubeClient
import Logging

/// Events as kubelet (and the other node roles) record them: source `<component>` on this host,
/// `involvedObject` the pod (with `fieldPath spec.containers{c}` for container events) or a policy,
/// and a repeat of the same reason and message bumps `count` and `lastTimestamp` instead of adding
/// an event (`(x6 over 56s)`).
actor EventRecorder {
    let client: KubeClient
    let host: String
    let component: String
    let logger: Logger
    private var seen: [String: (name: String, count: Int, first: String)] = [:]

    /// What an event is about (`involvedObject`).
    struct Object: Sendable {
        var apiVersion: String
        var kind: String
        var namespace: String?
        var name: String
        var uid: String
        var fieldPath: String?
    }

    init(client: KubeClient, host: String, component: String = "kubelet", logger: Logger) {
        self.client = client
        self.host = host
        self.component = component
        self.logger = logger
    }

    func record(_ pod: Pod, container: String?, type: String = "Warning", reason: String, message: String) async {
        let object = Object(apiVersion: "v1", kind: "Pod", namespace: pod.metadata.namespace ?? "default",
                            name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "",
                            fieldPath: container.map { "spec.containers{\($0)}" })
        await record(object, type: type, reason: reason, message: message)
    }

    /// A cluster-scoped object's event goes to the `default` namespace, as kubectl describe looks there.
    func record(_ object: Object, type: String = "Warning", reason: String, message: String) async {
        let ns = object.namespace ?? "default"
        let key = [object.uid.isEmpty ? object.name : object.uid, object.fieldPath ?? "", reason, message].joined(separator: "\u{1}")
        let now = KubeTime.time(Date())
        do {
            if var known = seen[key] {
                known.count += 1
                seen[key] = known
                struct Bump: Encodable { var count: Int; var lastTimestamp: String }
                try await client.mergePatch("/api/v1/namespaces/\(ns)/events/\(known.name)", Bump(count: known.count, lastTimestamp: now))
                return
            }
            let name = "\(object.name).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            var involved: [String: String] = ["kind": object.kind, "name": object.name, "apiVersion": object.apiVersion,
                                              "uid": object.uid]
            if let namespace = object.namespace { involved["namespace"] = namespace }
            if let fieldPath = object.fieldPath { involved["fieldPath"] = fieldPath }
            let event: [String: Any] = [
                "apiVersion": "v1", "kind": "Event",
                "metadata": ["name": name, "namespace": ns],
                "involvedObject": involved, "reason": reason, "message": message, "type": type,
                "source": ["component": component, "host": host],
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": component, "reportingInstance": host,
            ]
            try await client.request(.POST, "/api/v1/namespaces/\(ns)/events",
                                     body: try JSONSerialization.data(withJSONObject: event))
            seen[key] = (name, 1, now)
        } catch {
            logger.warning("cannot record event \(reason) for \(object.kind) \(ns)/\(object.name): \(error)")
        }
    }

    func forget(uid: String) {
        seen = seen.filter { !$0.key.hasPrefix(uid + "\u{1}") }
    }
}
