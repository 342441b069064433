import ConnTest
import Foundation
import KubeClient

/// Where a cluster's nethealth health daemon serves `health.sock` on its nodes, read from the
/// DaemonSet deploy/cilium-health.yaml installs (found by its `app.kubernetes.io/name` label, in
/// whatever namespace it was applied to): its image runs the check's `cilium-health`, and the
/// hostPath it mounts at the socket's directory is where the check's pods find the socket.
public struct HealthDaemonLocation: Sendable, Equatable {
    /// `<namespace>/<name>`.
    public var daemonSet: String
    public var image: String
    /// The node directory holding `health.sock`.
    public var socketDirectory: String
    public var readyPods: Int
    public var scheduledPods: Int
}

public enum HealthDaemonDiscovery {
    public static let nameLabel = "app.kubernetes.io/name"
    public static let nameValue = "nethealth-health-daemon"
    /// The daemon's own default (deploy/cilium-health.yaml's env says the same).
    static let defaultSocket = HealthCheckWorkload.defaultSocketDirectory + "/health.sock"

    struct DaemonSet: Decodable {
        struct Spec: Decodable { var template: Template }
        struct Template: Decodable { var spec: Pod.Spec }
        struct Status: Decodable { var numberReady: Int?; var desiredNumberScheduled: Int? }
        var metadata: ObjectMeta
        var spec: Spec
        var status: Status?
    }

    /// The first such DaemonSet with a ready pod (else the first found), nil when there is none.
    /// Listing needs `list daemonsets` cluster-wide; a refusal is thrown as the API's error.
    public static func find(_ client: KubeClient) async throws -> HealthDaemonLocation? {
        let path = "/apis/apps/v1/daemonsets?" + KubeClient.labelSelectorQuery("\(nameLabel)=\(nameValue)")
        let found = try await client.get(path, as: ObjectList<DaemonSet>.self).items.compactMap(location)
        return found.first { $0.readyPods > 0 } ?? found.first
    }

    /// Pure: the location a DaemonSet's pod template describes, nil when it names no socket
    /// directory on a hostPath (then the check's pods could not reach the socket).
    static func location(_ ds: DaemonSet) -> HealthDaemonLocation? {
        let pod = ds.spec.template.spec
        for container in pod.containers {
            guard let image = container.image else { continue }
            let socket = container.env?.first { $0.name == "CILIUM_HEALTH_SOCK" }?.value ?? defaultSocket
            let directory = (socket as NSString).deletingLastPathComponent
            // The mount covering the socket's directory, and the host directory behind it.
            let mounts = (container.volumeMounts ?? []).filter { directory == $0.mountPath || directory.hasPrefix($0.mountPath + "/") }
            guard let mount = mounts.max(by: { $0.mountPath.count < $1.mountPath.count }),
                  let host = pod.volumes?.first(where: { $0.name == mount.name })?.hostPath?.path else { continue }
            let rest = String(directory.dropFirst(mount.mountPath.count))
            return HealthDaemonLocation(daemonSet: "\(ds.metadata.namespace ?? "default")/\(ds.metadata.name ?? "?")",
                                        image: image, socketDirectory: host + rest,
                                        readyPods: ds.status?.numberReady ?? 0, scheduledPods: ds.status?.desiredNumberScheduled ?? 0)
        }
        return nil
    }
}
