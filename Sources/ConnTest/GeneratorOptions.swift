#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// User options that change the generated manifests. nil means "the upstream value".
public struct GeneratorOptions: Sendable, Equatable {
    public static let defaultNodePort = 31414
    public static let defaultHostPort = 40000
    public static let defaultExternalIP = "1.1.1.1"
    public static let defaultExternalFQDN = "www.google.com"

    public var namespace: String?
    public var curlImage: String?
    public var echoImage: String?
    /// Registry/repository prefix applied to every image (air-gapped mirrors).
    public var imageRepository: String?
    /// NodePort of echo-b; probes of the nodeport checks follow.
    public var nodePort: Int?
    /// hostPort of echo-b; echo-c uses the next port. Host-network echo servers
    /// shift by the same amount so a second copy can share nodes with the first.
    public var hostPort: Int?
    public var externalIP: String?
    public var externalFQDN: String?

    public init(namespace: String? = nil, curlImage: String? = nil, echoImage: String? = nil,
                imageRepository: String? = nil, nodePort: Int? = nil, hostPort: Int? = nil,
                externalIP: String? = nil, externalFQDN: String? = nil) {
        self.namespace = namespace
        self.curlImage = curlImage
        self.echoImage = echoImage
        self.imageRepository = imageRepository
        self.nodePort = nodePort
        self.hostPort = hostPort
        self.externalIP = externalIP
        self.externalFQDN = externalFQDN
    }

    // MARK: resolved values

    var echoBNodePort: Int { nodePort ?? Self.defaultNodePort }
    var echoBHostPort: Int { hostPort ?? Self.defaultHostPort }
    var echoCHostPort: Int { echoBHostPort + 1 }
    var hostPortShift: Int { echoBHostPort - Self.defaultHostPort }
    var externalIPValue: String { externalIP ?? Self.defaultExternalIP }
    var externalFQDNValue: String { externalFQDN ?? Self.defaultExternalFQDN }

    /// Upstream allows `*.google.com`; a user-chosen name is allowed exactly,
    /// the narrowest pattern that lets the probe through.
    var fqdnMatchPattern: String { externalFQDN ?? "*.google.com" }

    /// The external IP as a URL host (IPv6 literals need brackets).
    var externalIPURL: String {
        let ip = externalIPValue
        return "https://" + (ip.contains(":") ? "[\(ip)]" : ip)
    }

    func image(_ base: String, override: String?) -> String {
        if let override { return override }
        if let imageRepository { return Images.rewrite(base, repository: imageRepository) }
        return base
    }

    func clientImage(default base: String = Images.alpineCurl) -> String { image(base, override: curlImage) }
    func echoImage(default base: String = Images.jsonMock) -> String { image(base, override: echoImage) }

    // MARK: validation

    /// Throws a one-line error for values Kubernetes or curl would reject.
    public func validate() throws {
        if let namespace, !Self.isDNSLabel(namespace) {
            throw ConnTestError("invalid --namespace \"\(namespace)\": must be a DNS-1123 label (lowercase a-z, 0-9, '-', at most 63 characters)")
        }
        if let nodePort, !(30000...32767).contains(nodePort) {
            throw ConnTestError("invalid --node-port \(nodePort): must be in the NodePort range 30000-32767")
        }
        if let hostPort, !(1024...65534).contains(hostPort) {
            throw ConnTestError("invalid --host-port \(hostPort): must be in 1024-65534 (echo-c uses the next port)")
        }
        if let hostPort {
            let shifted = [31000, 31002].map { $0 + hostPort - Self.defaultHostPort }
            if shifted.contains(where: { !(1...65535).contains($0) }) {
                throw ConnTestError("invalid --host-port \(hostPort): host-network echo ports 31000/31002 would move out of 1-65535")
            }
        }
        // Every node-wide port (NodePort, hostPorts, host-network echo ports) must be distinct.
        let nodePorts = [("--node-port", echoBNodePort), ("echo-b hostPort", echoBHostPort), ("echo-c hostPort", echoBHostPort + 1),
                         ("echo-b-host port", 31000 + hostPortShift), ("echo-c-host port", 31002 + hostPortShift)]
        for (i, a) in nodePorts.enumerated() {
            if let b = nodePorts[(i + 1)...].first(where: { $0.1 == a.1 }) {
                throw ConnTestError("port \(a.1) is used twice on every node (\(a.0) and \(b.0)): choose other --node-port/--host-port values")
            }
        }
        if let externalIP, !Self.isIPAddress(externalIP) {
            throw ConnTestError("invalid --external-ip \"\(externalIP)\": must be an IPv4 or IPv6 address")
        }
        if let externalFQDN, !Self.isHostname(externalFQDN) {
            throw ConnTestError("invalid --external-fqdn \"\(externalFQDN)\": must be a DNS name such as www.example.com")
        }
        for (flag, value) in [("--curl-image", curlImage), ("--echo-image", echoImage), ("--image-repo", imageRepository)] {
            if let value, value.isEmpty || value.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
                throw ConnTestError("invalid \(flag) \"\(value)\": must be a non-empty image reference without spaces")
            }
        }
    }

    static func isDNSLabel(_ s: String) -> Bool {
        guard (1...63).contains(s.count), let first = s.first, let last = s.last else { return false }
        let allowed = s.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        return allowed && first != "-" && last != "-"
    }

    static func isHostname(_ s: String) -> Bool {
        guard (1...253).contains(s.count) else { return false }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard (1...63).contains(label.count), let first = label.first, let last = label.last else { return false }
            let ok = label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            return ok && first != "-" && last != "-"
        }
    }

    static func isIPAddress(_ s: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }
}
