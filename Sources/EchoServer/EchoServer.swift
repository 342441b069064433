import Hummingbird
import Logging
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

    /// Port from $PORT, as json-mock reads it; nil when unset or not a port number.
    public static func portFromEnvironment(_ environment: [String: String]) -> Int? {
        guard let raw = environment["PORT"], let port = Int(raw), (0...65535).contains(port) else { return nil }
        return port
    }

    /// Builds the application. `onRunning` receives the bound port (useful with port 0).
    public static func makeApplication(
        host: String = defaultHost, port: Int = defaultPort, logger: Logger = Logger(label: "echo-server"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: EchoRoutes.router(),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "echo-server", backlog: listenBacklog, reuseAddress: true),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then drains connections and returns.
    public static func run(host: String = defaultHost, port: Int = defaultPort, logger: Logger = Logger(label: "echo-server"),
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = makeApplication(host: host, port: port, logger: logger, onRunning: onRunning)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    static func ipv6Available() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }
}
