import Foundation

/// A throwaway certificate authority made with the openssl CLI, and the certificates it signs.
/// Keys are EC P-256: generated in milliseconds, accepted by curl, Go and BoringSSL alike.
public struct CertificateAuthority: Sendable {
    public let certificate: String
    public let key: String

    public enum Usage: Sendable {
        case server, client, serverAndClient
        var extendedKeyUsage: String {
            switch self {
            case .server: return "serverAuth"
            case .client: return "clientAuth"
            case .serverAndClient: return "serverAuth,clientAuth"
            }
        }
    }

    /// A file pair written by `issue`.
    public struct Issued: Sendable {
        public let certificate: String
        public let key: String
    }

    static let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    /// Creates `<dir>/<name>.crt` and `<dir>/<name>.key` (the directory is created, mode 0700).
    public static func create(in dir: String, name: String = "ca", commonName: String, days: Int) throws -> CertificateAuthority {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let ca = CertificateAuthority(certificate: "\(dir)/\(name).crt", key: "\(dir)/\(name).key")
        try openssl(["req", "-x509"] + ecKey + ["-days", "\(days)", "-keyout", ca.key, "-out", ca.certificate,
                     "-subj", "/CN=\(commonName)",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return ca
    }

    /// Signs a new key pair for `subject` (`/O=group/CN=name`) with the given SANs (`IP:…`, `DNS:…`).
    public func issue(in dir: String, name: String, subject: String, subjectAltNames: [String] = [],
                      usage: Usage, days: Int) throws -> Issued {
        let issued = Issued(certificate: "\(dir)/\(name).crt", key: "\(dir)/\(name).key")
        var ext = ["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature",
                   "-addext", "extendedKeyUsage=\(usage.extendedKeyUsage)"]
        if !subjectAltNames.isEmpty { ext += ["-addext", "subjectAltName=" + subjectAltNames.joined(separator: ",")] }
        try Self.openssl(["req", "-x509", "-CA", certificate, "-CAkey", key] + Self.ecKey
                         + ["-days", "\(days)", "-keyout", issued.key, "-out", issued.certificate, "-subj", subject] + ext)
        return issued
    }

    static func openssl(_ args: [String]) throws {
        do {
            try Command.check(["openssl"] + args)
        } catch {
            throw AgentError("cannot create certificates with openssl (Debian package openssl): \(error)")
        }
    }
}
