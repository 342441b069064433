/// Shared by the two policy parsers: typed field access that throws PolicyError
/// with the field path, and the list of unsupported features found so far.
struct PolicyFieldReader {
    let policy: String
    private(set) var unsupported: [UnsupportedPolicyFeature] = []

    init(policy: String) { self.policy = policy }

    func error(_ field: String, _ message: String) -> PolicyError {
        PolicyError(policy: policy, field: field, message: message)
    }

    mutating func flag(_ category: UnsupportedPolicyFeature.Category, _ direction: PolicyFacts.Direction?, _ field: String,
                       restrictsTraffic: Bool = true) {
        unsupported.append(UnsupportedPolicyFeature(category: category, direction: direction, field: field,
                                                    restrictsTraffic: restrictsTraffic))
    }

    func map(_ node: YAMLNode, _ field: String) throws -> [(String, YAMLNode)] {
        guard let pairs = node.mapPairs else { throw error(field, "expected a map") }
        return pairs
    }

    func list(_ node: YAMLNode, _ field: String) throws -> [YAMLNode] {
        guard let items = node.arrayValue else { throw error(field, "expected a list") }
        return items
    }

    func selector(_ node: YAMLNode, _ field: String) throws -> LabelSelector {
        try LabelSelector(node: node, policy: policy, field: field)
    }

    enum PortValue: Equatable {
        case number(UInt16)
        /// IANA service name (`http`); resolving it needs the target's container ports.
        case named(String)
    }

    /// Ports arrive as ints or strings (`"8080"`); 0 is "any" for Cilium.
    func port(_ node: YAMLNode, _ field: String, allowZero: Bool) throws -> PortValue {
        let text: String
        switch node.content {
        case .int(let i): text = String(i)
        case .string(let s): text = s
        default: throw error(field, "expected a port number or name")
        }
        if let n = Int(text) {
            guard let port = UInt16(exactly: n), port > 0 || allowZero else {
                throw error(field, "\(text) is not a port (\(allowZero ? 0 : 1)-65535)")
            }
            return .number(port)
        }
        // Kubernetes IANA_SVC_NAME: 1-15 lowercase alphanumerics or '-', with a letter.
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        guard !text.isEmpty, text.count <= 15, allowed, text.contains(where: \.isLetter) else {
            throw error(field, "\"\(text)\" is neither a port number nor a port name")
        }
        return .named(text)
    }
}
