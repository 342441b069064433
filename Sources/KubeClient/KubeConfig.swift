import Foundation
import Yams

/// Where and as whom to talk to a Kubernetes API server: one resolved kubeconfig context, or the
/// in-cluster service account. Credentials stay file paths or inline PEM, as kubeconfig has them.
public struct KubeConnection: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        case none
        case clientCertificate(certPEM: String, keyPEM: String)
        case bearerToken(String)
    }

    /// `https://host:port` with no trailing slash.
    public var server: String
    /// PEM bundle the server certificate must chain to; nil trusts the system's roots.
    public var certificateAuthorityPEM: String?
    public var insecureSkipTLSVerify: Bool
    public var credential: Credential
    /// The context's namespace, if it names one.
    public var namespace: String?
    /// Which context (or "in-cluster") this came from, for error messages.
    public var source: String

    public init(server: String, certificateAuthorityPEM: String?, insecureSkipTLSVerify: Bool = false,
                credential: Credential, namespace: String? = nil, source: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credential = credential
        self.namespace = namespace
        self.source = source
    }
}

/// A kubeconfig file (the subset kubectl users rely on: clusters, users with client certificates
/// or tokens, contexts, current-context), read and written.
public struct KubeConfig {
    public struct ConfigError: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }

    let path: String
    let root: [String: Any]

    init(path: String, root: [String: Any]) {
        self.path = path
        self.root = root
    }

    /// Parses `path`; relative credential paths resolve against its directory, as kubectl does.
    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read kubeconfig \(path): \(Self.reason(error))")
        }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch {
            throw ConfigError("kubeconfig \(path) is not valid YAML: \(error)")
        }
        guard let map = parsed as? [String: Any] else {
            throw ConfigError("kubeconfig \(path) is not a kubeconfig (expected a mapping with clusters, users, contexts)")
        }
        self.init(path: path, root: map)
    }

    public var currentContext: String? { root["current-context"] as? String }

    public var contextNames: [String] { Self.named(root["contexts"]).map(\.name) }

    /// The connection of `context` (default: current-context).
    public func connection(context: String? = nil) throws -> KubeConnection {
        guard let contextName = context ?? currentContext, !contextName.isEmpty else {
            throw ConfigError("kubeconfig \(path) has no current-context; pass --context (contexts: \(list(contextNames)))")
        }
        guard let ctx = Self.named(root["contexts"]).first(where: { $0.name == contextName })?.body["context"] as? [String: Any] else {
            throw ConfigError("context '\(contextName)' not found in \(path) (contexts: \(list(contextNames)))")
        }
        guard let clusterName = ctx["cluster"] as? String,
              let cluster = Self.named(root["clusters"]).first(where: { $0.name == clusterName })?.body["cluster"] as? [String: Any] else {
            throw ConfigError("context '\(contextName)' in \(path) names cluster '\(ctx["cluster"] ?? "")', which is not defined")
        }
        guard let server = cluster["server"] as? String, server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw ConfigError("cluster '\(clusterName)' in \(path) has no https:// server")
        }
        let ca = try pem(inline: cluster["certificate-authority-data"], file: cluster["certificate-authority"], what: "certificate-authority")
        var credential = KubeConnection.Credential.none
        if let userName = ctx["user"] as? String, !userName.isEmpty {
            guard let user = Self.named(root["users"]).first(where: { $0.name == userName })?.body["user"] as? [String: Any] else {
                throw ConfigError("context '\(contextName)' in \(path) names user '\(userName)', which is not defined")
            }
            if let cert = try pem(inline: user["client-certificate-data"], file: user["client-certificate"], what: "client-certificate") {
                guard let key = try pem(inline: user["client-key-data"], file: user["client-key"], what: "client-key") else {
                    throw ConfigError("user '\(userName)' in \(path) has a client certificate but no client key")
                }
                credential = .clientCertificate(certPEM: cert, keyPEM: key)
            } else if let token = user["token"] as? String, !token.isEmpty {
                credential = .bearerToken(token)
            } else if let file = user["tokenFile"] as? String {
                credential = .bearerToken(try readFile(resolve(file), what: "tokenFile").trimmingCharacters(in: .whitespacesAndNewlines))
            } else if user["exec"] != nil || user["auth-provider"] != nil {
                throw ConfigError("user '\(userName)' in \(path) uses an exec or auth-provider plugin, which is not supported; use a client certificate or token")
            }
        }
        return KubeConnection(server: server, certificateAuthorityPEM: ca,
                              insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] as? Bool ?? false,
                              credential: credential, namespace: ctx["namespace"] as? String,
                              source: "context '\(contextName)' of \(path)")
    }

    /// The pod's service account, as client-go's InClusterConfig reads it.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 accountDir: String = "/var/run/secrets/kubernetes.io/serviceaccount") throws -> KubeConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"],
              !host.isEmpty, !port.isEmpty else {
            throw ConfigError("not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset) and no kubeconfig given")
        }
        let token = try String(contentsOfFile: accountDir + "/token", encoding: .utf8)
        let ca = try? String(contentsOfFile: accountDir + "/ca.crt", encoding: .utf8)
        let ns = try? String(contentsOfFile: accountDir + "/namespace", encoding: .utf8)
        let h = host.contains(":") ? "[\(host)]" : host
        return KubeConnection(server: "https://\(h):\(port)", certificateAuthorityPEM: ca,
                              credential: .bearerToken(token.trimmingCharacters(in: .whitespacesAndNewlines)),
                              namespace: ns?.trimmingCharacters(in: .whitespacesAndNewlines), source: "in-cluster service account")
    }

    /// A one-context kubeconfig with file references (what `agent cluster up` writes for each identity).
    public static func render(cluster: String, server: String, certificateAuthority: String, user: String,
                              clientCertificate: String, clientKey: String) -> String {
        let context = "\(user)@\(cluster)"
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(cluster)
              cluster:
                server: \(server)
                certificate-authority: \(certificateAuthority)
            users:
            - name: \(user)
              user:
                client-certificate: \(clientCertificate)
                client-key: \(clientKey)
            contexts:
            - name: \(context)
              context:
                cluster: \(cluster)
                user: \(user)
            current-context: \(context)

            """
    }

    // MARK: helpers

    struct Named { let name: String; let body: [String: Any] }

    static func named(_ value: Any?) -> [Named] {
        (value as? [Any] ?? []).compactMap { item in
            guard let map = item as? [String: Any], let name = map["name"] as? String else { return nil }
            return Named(name: name, body: map)
        }
    }

    private func pem(inline: Any?, file: Any?, what: String) throws -> String? {
        if let b64 = inline as? String, !b64.isEmpty {
            guard let data = Data(base64Encoded: b64.filter { !$0.isWhitespace }), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError("\(what)-data in \(path) is not base64-encoded PEM")
            }
            return text
        }
        if let file = file as? String, !file.isEmpty { return try readFile(resolve(file), what: what) }
        return nil
    }

    func resolve(_ file: String) -> String {
        file.hasPrefix("/") ? file : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
    }

    private func readFile(_ file: String, what: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read \(what) \(file) (named in \(path)): \(Self.reason(error))")
        }
    }

    private func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file or directory" }
        return ns.localizedDescription
    }

}
