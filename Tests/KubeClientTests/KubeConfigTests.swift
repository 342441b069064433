import Foundation
import KubeClient
import Testing

/// kubeconfig resolution as kubectl users expect it: current-context, --context, relative paths,
/// inline data, tokens, and errors that name what is wrong.
@Suite struct KubeConfigTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "kubeconfig-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "CA PEM\n".write(toFile: dir + "/ca.crt", atomically: true, encoding: .utf8)
        try "CERT PEM\n".write(toFile: dir + "/admin.crt", atomically: true, encoding: .utf8)
        try "KEY PEM\n".write(toFile: dir + "/admin.key", atomically: true, encoding: .utf8)
    }

    func write(_ text: String) throws -> String {
        let path = dir + "/config"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func renderedConfigRoundTrips() throws {
        let path = try write(KubeConfig.render(cluster: "c", server: "https://127.0.0.1:6443", certificateAuthority: dir + "/ca.crt",
                                               user: "admin", clientCertificate: dir + "/admin.crt", clientKey: dir + "/admin.key"))
        let config = try KubeConfig(path: path)
        #expect(config.currentContext == "admin@c")
        let c = try config.connection()
        #expect(c.server == "https://127.0.0.1:6443")
        #expect(c.certificateAuthorityPEM == "CA PEM\n")
        #expect(c.credential == .clientCertificate(certPEM: "CERT PEM\n", keyPEM: "KEY PEM\n"))
    }

    @Test func contextSelectionRelativePathsInlineDataAndTokens() throws {
        let b64 = Data("INLINE CA".utf8).base64EncodedString()
        let path = try write("""
            apiVersion: v1
            kind: Config
            current-context: a
            clusters:
            - name: one
              cluster: {server: "https://10.0.0.1:6443/", certificate-authority: ca.crt}
            - name: two
              cluster: {server: "https://[fd00::1]:443", certificate-authority-data: \(b64)}
            users:
            - name: cert
              user: {client-certificate: admin.crt, client-key: admin.key}
            - name: tok
              user: {token: abc123}
            contexts:
            - name: a
              context: {cluster: one, user: cert}
            - name: b
              context: {cluster: two, user: tok, namespace: cilium-test}
            """)
        let config = try KubeConfig(path: path)
        let a = try config.connection()
        #expect(a.server == "https://10.0.0.1:6443")
        #expect(a.certificateAuthorityPEM == "CA PEM\n")
        let b = try config.connection(context: "b")
        #expect(b.certificateAuthorityPEM == "INLINE CA")
        #expect(b.credential == .bearerToken("abc123"))
        #expect(b.namespace == "cilium-test")
    }

    @Test func errorsNameWhatIsWrong() throws {
        let missing = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(path: dir + "/nope") }
        #expect(missing?.description.contains("no such file") == true)

        let notConfig = try write("- just\n- a list\n")
        let e1 = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(path: notConfig) }
        #expect(e1?.description.contains("is not a kubeconfig") == true)

        let badRef = try write("""
            current-context: x
            contexts:
            - name: x
              context: {cluster: ghost, user: u}
            """)
        let e2 = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(path: badRef).connection() }
        #expect(e2?.description.contains("names cluster 'ghost', which is not defined") == true)
        let e3 = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(path: badRef).connection(context: "other") }
        #expect(e3?.description.contains("context 'other' not found") == true)

        let noKey = try write("""
            current-context: x
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            users: [{name: u, user: {client-certificate: admin.crt}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            """)
        let e4 = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(path: noKey).connection() }
        #expect(e4?.description.contains("no client key") == true)
    }

    @Test func inClusterNeedsTheServiceEnvironment() throws {
        let e = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig.inCluster(environment: [:]) }
        #expect(e?.description.contains("KUBERNETES_SERVICE_HOST") == true)
        try "tok\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let c = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
                                         accountDir: dir)
        #expect(c.server == "https://[fd00::1]:443")
        #expect(c.credential == .bearerToken("tok"))
    }

    /// $KUBECONFIG as kubectl reads it: missing files skipped, the first definition of a name and
    /// the first current-context win, relative paths resolve against their own file.
    @Test func kubeconfigListMergesFirstWins() throws {
        let sub = dir + "/second"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try "SECOND CA\n".write(toFile: sub + "/ca.crt", atomically: true, encoding: .utf8)
        let one = try write("""
            current-context: a
            clusters: [{name: c1, cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}}]
            users: [{name: u, user: {token: first}}]
            contexts: [{name: a, context: {cluster: c1, user: u}}]
            """)
        let two = sub + "/config"
        try """
            current-context: b
            clusters: [{name: c2, cluster: {server: "https://10.0.0.2:6443", certificate-authority: ca.crt}}]
            users: [{name: u, user: {token: second}}]
            contexts: [{name: b, context: {cluster: c2, user: u}}, {name: a, context: {cluster: c2, user: u}}]
            """.write(toFile: two, atomically: true, encoding: .utf8)
        let merged = try KubeConfig(kubeconfigList: "\(dir)/missing:\(one):\(two)")
        #expect(merged.currentContext == "a")
        #expect(merged.contextNames == ["a", "b"])
        let a = try merged.connection()
        #expect(a.server == "https://10.0.0.1:6443")
        #expect(a.credential == .bearerToken("first"))
        let b = try merged.connection(context: "b")
        #expect(b.server == "https://10.0.0.2:6443")
        #expect(b.certificateAuthorityPEM == "SECOND CA\n", "relative to the second file's directory")
        #expect(b.credential == .bearerToken("first"), "user u is the first file's")

        let none = #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig(kubeconfigList: "\(dir)/x:\(dir)/y") }
        #expect(none?.description.contains("no such file") == true)
    }

    /// kubectl's order: --kubeconfig, then $KUBECONFIG, then in-cluster; nil leaves the default to the caller.
    @Test func connectionSourcesInKubectlOrder() throws {
        let one = try write("""
            current-context: a
            clusters: [{name: c1, cluster: {server: "https://10.0.0.1:6443"}}]
            contexts: [{name: a, context: {cluster: c1}}]
            """)
        #expect(try KubeConfig.connection(kubeconfig: nil, context: nil, environment: [:]) == nil)
        #expect(try KubeConfig.connection(kubeconfig: nil, context: nil, environment: ["KUBECONFIG": one])?.server == "https://10.0.0.1:6443")
        #expect(try KubeConfig.connection(kubeconfig: one, context: nil,
                                          environment: ["KUBECONFIG": dir + "/nope"])?.source.contains(one) == true)
        let e = #expect(throws: KubeConfig.ConfigError.self) {
            try KubeConfig.connection(kubeconfig: nil, context: "x", environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        }
        #expect(e?.description.contains("--context") == true)
    }

    @Test func timesAreGoFormatted() {
        let date = Date(timeIntervalSince1970: 1_796_112_000.25)
        #expect(KubeTime.time(date) == "2026-12-01T08:00:00Z")
        #expect(KubeTime.microTime(date) == "2026-12-01T08:00:00.250000Z")
        #expect(KubeTime.parse("2026-12-01T08:00:00Z") == Date(timeIntervalSince1970: 1_796_112_000))
    }
}
