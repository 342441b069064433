/// Input errors. `description` is always one line and names the valid values,
/// because the CLI prints it verbatim and exits 2.
public struct ConnTestError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
