import Foundation

/// cilium-cli's `cilium-health` scenario as checks the run reads like any other: one Deployment
/// per node, bound to it, whose container only holds an exec readiness probe running
/// `cilium-health status --probe --expect-nodes N` against the node's health socket (a hostPath,
/// where deploy/'s DaemonSet — or on the local cluster the node agent — serves it). The pod is
/// Ready once that node's health daemon lists every node with every status empty; otherwise the
/// kubelet's `Readiness probe failed:` event carries cilium-cli's problem lines.
public struct HealthCheckWorkload: Sendable {
    public static let defaultImage = "localhost/nethealth:0.1.0"
    /// deploy/cilium-health.yaml's hostPath for the sockets.
    public static let defaultSocketDirectory = "/var/run/cilium-health"
    public static let checkPrefix = "cilium-health-"

    public var image: String
    public var socketDirectory: String

    public init(image: String = Self.defaultImage, socketDirectory: String = Self.defaultSocketDirectory) {
        self.image = image
        self.socketDirectory = socketDirectory
    }

    /// A DNS-1123 name for `node`'s check, at most 63 characters (long node names keep a hash).
    public static func checkName(for node: String) -> String {
        let cleaned = String(node.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
            .trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        let name = checkPrefix + cleaned
        guard name.count > 63 else { return name }
        var hash: UInt32 = 2_166_136_261  // FNV-1a: stable across runs, unlike Hasher
        for byte in node.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(name.prefix(54)) + "-" + String(format: "%08x", hash)
    }

    /// The checks for `nodes` (names as the API has them).
    public func resources(nodes: [String]) -> [Resource] {
        nodes.sorted().map { deployment(node: $0, expectedNodes: nodes.count) }
    }

    func deployment(node: String, expectedNodes: Int) -> Resource {
        let name = Self.checkName(for: node)
        let labels = ResourceLabels(name: name, topology: .any, component: .health)
        // Output on stdout is the status table; only the problems (stderr) go into the event.
        let probe = "cilium-health -H unix://\(socketDirectory)/health.sock status --probe --expect-nodes \(expectedNodes) >/dev/null"
        let container: YAMLNode = .map([
            ("name", .string("\(name)-container")),
            ("image", .string(image)),
            ("imagePullPolicy", .string("IfNotPresent")),
            ("command", strings(["sleep", "1000000000"])),
            // --probe answers within its 10 s deadline plus the API timeout.
            ("readinessProbe", .map([("timeoutSeconds", .int(20)), ("periodSeconds", .int(10)),
                                     ("exec", .map([("command", strings(["/bin/sh", "-c", probe]))]))])),
            ("volumeMounts", .seq([.map([("name", .string("health-sockets")), ("mountPath", .string(socketDirectory))])])),
        ])
        let podSpec: YAMLNode = .map([
            // Bound to the node by name, as the DaemonSet controller binds its pods (no hostname label assumed).
            ("nodeName", .string(node)),
            // As a DaemonSet's pods: on every node whatever its taints.
            ("tolerations", .seq([.map([("operator", .string("Exists"))])])),
            ("containers", .seq([container])),
            ("volumes", .seq([.map([("name", .string("health-sockets")),
                                    ("hostPath", .map([("path", .string(socketDirectory)), ("type", .string("Directory"))]))])])),
        ])
        return ManifestBuilder.deployment(labels: labels, metadata: .map([("name", .string(name)), ("labels", labels.node)]),
                                          podSpec: podSpec)
    }
}
