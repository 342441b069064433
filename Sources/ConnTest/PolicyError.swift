/// A policy document the compiler cannot interpret. Names the policy and the
/// field path (`spec.egress[0].toPorts[0].ports[0].port`) so the user can fix the YAML.
public struct PolicyError: Error, CustomStringConvertible, Equatable, Sendable {
    public let policy: String
    public let field: String
    public let message: String

    public init(policy: String, field: String, message: String) {
        self.policy = policy
        self.field = field
        self.message = message
    }

    public var description: String { "policy \(policy): \(field): \(message)" }
}
