/// The files upstream ships in examples/kubernetes/connectivity-check, each
/// reproduced from the model (see the spec's §1.7 table).
public enum Variant: String, CaseIterable, Sendable {
    case `default`
    case `internal`
    case singleNode = "single-node"
    case hostport
    case proxy
    case quarantine
    case debugTools = "debug-tools"
    case netpolOnly = "netpol-only"
    case ipv6

    public var fileName: String {
        switch self {
        case .default: return "connectivity-check.yaml"
        case .debugTools: return "connectivity-debug-tools.yaml"
        default: return "connectivity-check-\(rawValue).yaml"
        }
    }

    /// The upstream Makefile's tags for the CUE-generated files; nil for hand-written ones.
    public var tags: [String]? {
        switch self {
        case .default: return []
        case .internal: return ["traffic=internal"]
        case .singleNode: return ["topology=single-node"]
        case .hostport: return ["component=all"]
        case .proxy: return ["component=proxy"]
        case .quarantine: return ["component=all", "quarantine=true"]
        case .debugTools: return ["component=all", "type=tool"]
        case .netpolOnly, .ipv6: return nil
        }
    }

    /// The Makefile appends servers.yaml so these files are self-contained.
    var appendsServers: Bool { self == .proxy || self == .quarantine }

    /// Servers dumped one by one into servers.yaml (the Makefile's SERVERS_NAME).
    static let serverNames = ["echo-a", "echo-b", "echo-b-host", "echo-b-host-headless",
                              "echo-c", "echo-c-host", "echo-c-host-headless"]

    public static func named(_ name: String) throws -> Variant {
        if let v = Variant(rawValue: name) { return v }
        if let v = allCases.first(where: { $0.fileName == name || $0.fileName == name + ".yaml" }) { return v }
        throw ConnTestError("unknown variant \"\(name)\" (valid values: \(allCases.map(\.rawValue).joined(separator: "|")))")
    }

    /// Objects of this variant, in file order.
    public func resources(_ options: GeneratorOptions = GeneratorOptions()) throws -> [Resource] {
        switch self {
        case .netpolOnly: return NetpolOnlyVariant.resources(options)
        case .ipv6: return LegacyIPv6Variant.resources(options)
        default:
            let all = ConnectivitySuite.resources(options)
            var selected = try TagSelection.parse(tags ?? []).filter(all)
            if appendsServers {
                for name in Self.serverNames {
                    selected += try TagSelection.parse(["component=all", "name=\(name)"]).filter(all)
                }
            }
            return selected
        }
    }

    /// The complete file text.
    public func render(_ options: GeneratorOptions = GeneratorOptions()) throws -> String {
        switch self {
        case .netpolOnly: return NetpolOnlyVariant.render(options)
        case .ipv6: return LegacyIPv6Variant.render(options)
        default:
            let all = ConnectivitySuite.resources(options)
            var text = ManifestRenderer.generatedHeader + ManifestRenderer.dump(try TagSelection.parse(tags ?? []).filter(all))
            if appendsServers {
                // servers.yaml starts with `echo`'s blank line, then one dump per name.
                text += "\n"
                for name in Self.serverNames {
                    text += ManifestRenderer.dump(try TagSelection.parse(["component=all", "name=\(name)"]).filter(all))
                }
            }
            return text
        }
    }
}
