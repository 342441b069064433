import Foundation
import KubeClient

/// The control plane's TLS material and kubeconfigs, one identity per component as kubeadm lays
/// them out: apiserver serving certificate, admin (`system:masters`), controller-manager,
/// scheduler, one `system:node:<name>` client per node, and the service-account signing key.
struct ControlPlanePKI {
    let layout: StateLayout
    let spec: ClusterSpec
    let kube: ClusterSpec.KubernetesSpec

    var dir: String { layout.controlPlaneDir + "/pki" }
    var caCertificate: String { dir + "/ca.crt" }
    var serviceAccountKey: String { dir + "/sa.key" }
    var serviceAccountPublicKey: String { dir + "/sa.pub" }
    var apiServerCertificate: String { dir + "/apiserver.crt" }
    var apiServerKey: String { dir + "/apiserver.key" }
    func componentKubeconfig(_ component: String) -> String { layout.controlPlaneDir + "/\(component).kubeconfig" }

    static let days = 365

    func generate() throws {
        let ca = try CertificateAuthority.create(in: dir, commonName: "nethealth-\(spec.name)-ca", days: Self.days)
        let serviceIP = Self.firstServiceIP(String(kube.serviceCIDR.split(separator: ",").first ?? ""))
        var sans = ["IP:\(kube.apiServerIPv4)", "IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
                    "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"]
        if let serviceIP { sans.append("IP:\(serviceIP)") }
        if let v6 = kube.apiServerIPv6 { sans.append("IP:\(v6)") }
        _ = try ca.issue(in: dir, name: "apiserver", subject: "/CN=kube-apiserver", subjectAltNames: sans,
                         usage: .server, days: Self.days)

        let admin = try ca.issue(in: dir, name: "admin", subject: "/O=system:masters/CN=nethealth-admin",
                                 usage: .client, days: Self.days)
        try writeKubeconfig(layout.kubeconfigPath, server: kube.hostURL, user: "nethealth-admin", identity: admin)
        for component in ["kube-controller-manager", "kube-scheduler"] {
            let id = try ca.issue(in: dir, name: component, subject: "/CN=system:\(component)", usage: .client, days: Self.days)
            try writeKubeconfig(componentKubeconfig(component), server: "https://127.0.0.1:\(kube.apiServerPort)",
                                user: "system:\(component)", identity: id)
        }
        for node in spec.nodes {
            try FileManager.default.createDirectory(atPath: layout.nodeDir(node.name), withIntermediateDirectories: true)
            let id = try ca.issue(in: dir, name: "node-\(node.name)", subject: "/O=system:nodes/CN=system:node:\(node.name)",
                                  usage: .client, days: Self.days)
            try writeKubeconfig(layout.nodeKubeconfig(node.name), server: kube.apiServerURL,
                                user: "system:node:\(node.name)", identity: id)
        }
        // The service-account token signer wants RSA.
        try CertificateAuthority.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                          "-out", serviceAccountKey])
        try CertificateAuthority.openssl(["pkey", "-in", serviceAccountKey, "-pubout", "-out", serviceAccountPublicKey])
    }

    private func writeKubeconfig(_ path: String, server: String, user: String, identity: CertificateAuthority.Issued) throws {
        let text = KubeConfig.render(cluster: "nethealth-\(spec.name)", server: server, certificateAuthority: caCertificate,
                                     user: user, clientCertificate: identity.certificate, clientKey: identity.key)
        try AtomicFile.write(Data(text.utf8), to: path)
        chmod(path, 0o600)
    }

    /// The `kubernetes` Service's ClusterIP: the first address of the service range.
    static func firstServiceIP(_ cidr: String) -> String? {
        let parts = cidr.split(separator: "/").first?.split(separator: ".").compactMap { Int($0) } ?? []
        guard parts.count == 4 else { return nil }
        return "\(parts[0]).\(parts[1]).\(parts[2]).\(parts[3] + 1)"
    }
}
