import ArgumentParser
import HTTPSupport

/// `--read-header-timeout` and `--idle-timeout` of the servers that take outside connections.
public struct ServerLimitOptions: ParsableArguments {
    public init() {}

    static let range = 0.1...3600.0

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Close a connection whose request head is not complete this many seconds after accept, 0.1-3600 (default \(seconds(HTTPServerLimits.standard.readHeaderTimeout))).",
                               valueName: "seconds"))
    var readHeaderTimeout: Double?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Close a kept-alive connection idle this many seconds, 0.1-3600 (default \(seconds(HTTPServerLimits.standard.idleTimeout))).",
                               valueName: "seconds"))
    var idleTimeout: Double?

    public func validate() throws {
        for (flag, value) in [("--read-header-timeout", readHeaderTimeout), ("--idle-timeout", idleTimeout)] {
            if let value, !(value.isFinite && Self.range.contains(value)) {
                throw ValidationError("\(flag) must be 0.1-3600 seconds, got \(value)")
            }
        }
    }

    public var limits: HTTPServerLimits {
        let standard = HTTPServerLimits.standard
        return HTTPServerLimits(readHeaderTimeout: readHeaderTimeout.map { .milliseconds(Int64($0 * 1000)) } ?? standard.readHeaderTimeout,
                                idleTimeout: idleTimeout.map { .milliseconds(Int64($0 * 1000)) } ?? standard.idleTimeout)
    }
}

private func seconds(_ d: Duration) -> String { "\(d.components.seconds)" }
