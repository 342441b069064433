/// An echo server Deployment and the Services that expose it.
public struct EchoServerDeclaration: Sendable {
    public enum PortExposure: Sendable {
        /// Pod-network server listening on `port`, optionally also bound to a hostPort.
        case pod(port: Int, hostPort: HostPortSlot?)
        /// hostNetwork server on `port`; only reachable through a port-less headless service.
        case hostNetwork(port: Int)
    }

    /// Which configurable hostPort a server binds (moved together by --host-port).
    public enum HostPortSlot: Sendable { case echoB, echoC }

    public var name: String
    public var component: Component
    public var exposure: PortExposure
    /// Host-network servers are pinned next to their pod-network twin.
    public var colocateWith: String?
    public var clusterIPService = false
    public var nodePortService = false
    public var headlessService = false
}

/// What a client container proves.
public enum ProbeExpectation: Sendable {
    /// Readiness and liveness must reach `<target><path>`.
    case allow
    /// Ready only while `<target>/private` is unreachable (policy drop or L7 403).
    case deny
    /// Two containers: allow on `<path>` and a liveness-only deny on /private (L7 proxy checks).
    case allowAndDeny
    /// A debugging tool whose probes always pass.
    case alwaysPass
}

/// Where a client's probe goes when the name-driven default does not apply.
public enum ProbeTargetOverride: Sendable {
    case echoBHostHeadlessHostPort
    case echoBHostHeadlessNodePort
    case echoCHostHeadlessHostPort
    case externalIP
    case externalFQDN
}

/// One client Deployment: the check itself.
public struct ClientCheckDeclaration: Sendable {
    public var name: String
    public var component: Component
    public var traffic: Traffic = .internal
    public var quarantine = false
    public var type: CheckType = .autocheck
    public var target: ProbeTargetOverride?
    public var path = "/public"
    public var expectation: ProbeExpectation = .allow
    /// host-to-* checks run in the node's network namespace.
    public var hostNetwork = false
    /// Debug tools use their own image and command.
    public var tool: ToolContainer?
}

public struct ToolContainer: Sendable {
    /// Replaced by the configured external FQDN when rendering.
    public static let fqdnPlaceholder = "{external-fqdn}"
    public var image: String
    public var command: [String]
}

/// An egress CiliumNetworkPolicy named after (and selecting) a client check.
public struct EgressPolicyDeclaration: Sendable {
    public var check: String
    public var rules: [EgressRule]
    /// Appends the kube-dns / OpenShift DNS allow rules (upstream `_allowDNS`).
    public var allowDNS = true
    /// Turns on the DNS proxy on those rules (implied by any toFQDNs rule).
    public var dnsVisibility = false
}

/// An ingress CiliumNetworkPolicy protecting an echo server.
public struct IngressPolicyDeclaration: Sendable {
    public var server: String
    public var rules: [PortRule]
}
