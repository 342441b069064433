import Agent
import Foundation

/// The simulated external host's TLS material, made fresh for each run with the openssl CLI: a
/// throwaway CA, and a server certificate it signed for `IP:<ip>` and `DNS:<fqdn>` (curl checks
/// the name against the SAN).
public struct ExternalHostCertificates: Sendable {
    public let caCertificate: String
    public let serverCertificate: String
    public let serverKey: String

    /// Writes everything into `dir` (created) and returns the paths.
    public static func generate(in dir: String, ip: String, fqdn: String) throws -> ExternalHostCertificates {
        let ca = try CertificateAuthority.create(in: dir, commonName: "nethealth external host CA", days: 1)
        let server = try ca.issue(in: dir, name: "server", subject: "/CN=\(fqdn)",
                                  subjectAltNames: ["IP:\(ip)", "DNS:\(fqdn)"], usage: .server, days: 1)
        return ExternalHostCertificates(caCertificate: ca.certificate, serverCertificate: server.certificate,
                                        serverKey: server.key)
    }

    /// The CA in PEM, what a client's trust store holds.
    public func caPEM() throws -> String {
        try String(contentsOfFile: caCertificate, encoding: .utf8)
    }
}
