import HTTPSupport
import Hummingbird
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// In-process API for the echo server, so other modules (and tests) can run it
/// without spawning the `echo-server` binary.
public enum EchoServer {
    /// json-mock's default when $PORT is unset.
    public static let defaultPort = 80
    /// Enough queued connections for a burst of 1000 clients (NIO's default is 256).
    public static let listenBacklog = 4096

    /// "::" accepts IPv4 too on Linux (v4-mapped) unless IPv6 is missing, then IPv4 only.
    public static var defaultHost: String { ipv6Available() ? "::" : "0.0.0.0" }

    /// Port from $PORT, as json-mock reads it; nil when unset. A set value that is not a port
    /// (`abc`, `70000`, empty) is an error: listening on 80 instead would hide the mistake.
    public static func portFromEnvironment(_ environment: [String: String]) throws -> Int? {
        guard let raw = environment["PORT"] else { return nil }
        guard let port = Int(raw), (0...65535).contains(port) else {
            throw EchoServerStartError(description: "invalid $PORT '\(raw)': must be a port number in 0-65535")
        }
        return port
    }

    /// Builds the application. `onRunning` receives the bound port (useful with port 0).
    public static func makeApplication(
        host: String = defaultHost, port: Int = defaultPort, limits: HTTPServerLimits = .standard,
        logger: Logger = Logger(label: "echo-server"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: EchoRoutes.router(),
            server: limits.server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "echo-server", backlog: listenBacklog, reuseAddress: true),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then drains connections and returns.
    public static func run(host: String = defaultHost, port: Int = defaultPort, limits: HTTPServerLimits = .standard,
                           logger: Logger = Logger(label: "echo-server"),
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = makeApplication(host: host, port: port, limits: limits, logger: logger, onRunning: onRunning)
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch let error as IOError {
            // NIO's text ("bind(descriptor:ptr:bytes:): … (errno: 99)") names neither address nor port.
            throw EchoServerStartError(description: "cannot listen on \(host) port \(port): \(String(cString: strerror(error.errnoCode)).lowercased())")
        }
    }

    static func ipv6Available() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }
}
