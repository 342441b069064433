import Foundation

/// Where a REST API listens: the value of `-H/--host` (`unix:///path` or `tcp://host:port`).
public enum APIEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    public struct InvalidHostFormat: Error, CustomStringConvertible {
        public let value: String
        public var description: String { "invalid host format '\(value)'" }
    }

    /// Parses upstream's `-H` syntax; anything else is rejected with upstream's message.
    public init(parsing value: String) throws {
        if value.hasPrefix("unix://") {
            let path = String(value.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw InvalidHostFormat(value: value) }
            self = .unix(path: path)
        } else if value.hasPrefix("tcp://") {
            let rest = String(value.dropFirst("tcp://".count))
            guard let colon = rest.lastIndex(of: ":"),
                  let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                throw InvalidHostFormat(value: value)
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw InvalidHostFormat(value: value) }
            self = .tcp(host: host, port: port)
        } else {
            throw InvalidHostFormat(value: value)
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix://\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }

    /// The URL AsyncHTTPClient needs for `path` (which starts with "/").
    public func url(_ path: String) -> String {
        switch self {
        case .unix(let socket):
            let encoded = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
            return "http+unix://\(encoded)\(path)"
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "http://\(h):\(port)\(path)"
        }
    }
}
