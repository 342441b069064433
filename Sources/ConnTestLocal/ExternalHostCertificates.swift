import Agent
import Foundation

/// The simulated external host's TLS material, made fresh for each run with the openssl CLI: a
/// throwaway CA, and a server certificate it signed for `IP:<ip>` and `DNS:<fqdn>` (curl checks
/// the name against the SAN). Keys are EC P-256: generated in milliseconds.
public struct ExternalHostCertificates: Sendable {
    public let caCertificate: String
    public let serverCertificate: String
    public let serverKey: String

    /// Writes everything into `dir` (created) and returns the paths.
    public static func generate(in dir: String, ip: String, fqdn: String) throws -> ExternalHostCertificates {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let certs = ExternalHostCertificates(caCertificate: dir + "/ca.crt", serverCertificate: dir + "/server.crt",
                                             serverKey: dir + "/server.key")
        let caKey = dir + "/ca.key"
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        do {
            try Command.check(["openssl", "req", "-x509"] + key + [
                "-keyout", caKey, "-out", certs.caCertificate, "-subj", "/CN=nethealth external host CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            try Command.check(["openssl", "req", "-x509", "-CA", certs.caCertificate, "-CAkey", caKey] + key + [
                "-keyout", certs.serverKey, "-out", certs.serverCertificate, "-subj", "/CN=\(fqdn)",
                "-addext", "subjectAltName=IP:\(ip),DNS:\(fqdn)", "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "extendedKeyUsage=serverAuth"])
        } catch {
            throw AgentError("cannot create the external host's certificates (Debian package openssl): \(error)")
        }
        return certs
    }

    /// The CA in PEM, what a client's trust store holds.
    public func caPEM() throws -> String {
        try String(contentsOfFile: caCertificate, encoding: .utf8)
    }
}
