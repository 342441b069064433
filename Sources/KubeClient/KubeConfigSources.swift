import Foundation

extension KubeConfig {
    /// `$KUBECONFIG` as kubectl reads it: a colon-separated list, files that do not exist skipped,
    /// the rest merged. The first file to define a cluster, user or context name wins, as does the
    /// first `current-context`; relative credential paths resolve against the file that holds them.
    /// (kubectl's field-by-field merge of a name defined twice is not done: the first entry is used whole.)
    public init(kubeconfigList: String) throws {
        let listed = kubeconfigList.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        let present = listed.filter { FileManager.default.fileExists(atPath: $0) }
        guard let first = present.first else {
            throw ConfigError("KUBECONFIG=\(kubeconfigList): no such file" + (listed.count > 1 ? " among \(listed.count) paths" : ""))
        }
        guard present.count > 1 else {
            try self.init(path: first)
            return
        }
        var merged: [String: Any] = [:]
        for path in present {
            let file = try KubeConfig(path: path)
            if merged["current-context"] == nil, let current = file.currentContext, !current.isEmpty {
                merged["current-context"] = current
            }
            for (list, entry, keys) in [("clusters", "cluster", ["certificate-authority"]),
                                        ("users", "user", ["client-certificate", "client-key", "tokenFile"]),
                                        ("contexts", "context", [])] {
                var items = merged[list] as? [Any] ?? []
                let known = Set(Self.named(items).map(\.name))
                for item in Self.named(file.root[list]) where !known.contains(item.name) {
                    var body = item.body
                    if var inner = body[entry] as? [String: Any] {
                        for key in keys {
                            if let value = inner[key] as? String, !value.isEmpty { inner[key] = file.resolve(value) }
                        }
                        body[entry] = inner
                    }
                    items.append(body)
                }
                merged[list] = items
            }
        }
        self.init(path: present.joined(separator: ":"), root: merged)
    }
}

extension KubeConfig {
    /// Where a kubectl user's configuration comes from, in kubectl's order: an explicit
    /// `--kubeconfig` file, then `$KUBECONFIG` (a merged list), then the pod's service account when
    /// running in a cluster. nil when none applies: the caller picks its own default (kubectl's
    /// would be ~/.kube/config). `context` picks a kubeconfig context; it cannot apply in-cluster.
    public static func connection(kubeconfig: String?, context: String?,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubeConnection? {
        if let kubeconfig { return try KubeConfig(path: kubeconfig).connection(context: context) }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return try KubeConfig(kubeconfigList: list).connection(context: context)
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            guard context == nil else {
                throw ConfigError("--context names a kubeconfig context, but there is no kubeconfig (in-cluster service account); pass --kubeconfig")
            }
            return try inCluster(environment: environment)
        }
        return nil
    }
}
