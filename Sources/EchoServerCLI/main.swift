import ArgumentParser
import CommandLineSupport
import EchoServer
import Foundation
import Logging

@main
struct EchoServerMain {
    static func main() async { await CommandMain.run(EchoServerCommand.self) }
}

struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "json-mock compatible HTTP server used as the target of the connectivity checks.",
        discussion: """
            Serves GET/HEAD / , /public and /private with 200 and a JSON body (json-server style); \
            any other path is 404. Listens on $PORT (default 80) unless --port is given, on IPv4 and \
            IPv6 (dual-stack \"::\") unless --address is given. SIGTERM or SIGINT shuts down cleanly (exit 0).
            """)

    @Option(parsing: .unconditional, help: "Port to listen on, 0-65535 (default: $PORT, else 80). 0 picks a free port.")
    var port: Int?

    @Option(help: "Address to bind, e.g. 127.0.0.1 or ::1 (default: :: for IPv4+IPv6).")
    var address: String?

    @OptionGroup var limits: ServerLimitOptions

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("invalid --port \(port): must be in 0-65535")
        }
        if port == nil { try asUsageError { _ = try EchoServer.portFromEnvironment(ProcessInfo.processInfo.environment) } }
    }

    func run() async throws {
        let chosenPort = try port ?? EchoServer.portFromEnvironment(ProcessInfo.processInfo.environment) ?? EchoServer.defaultPort
        // Logs go to stderr; stdout carries only the "listening" line scripts wait for.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "echo-server")
        logger.logLevel = .info
        let host = address ?? EchoServer.defaultHost
        try await EchoServer.run(host: host, port: chosenPort, limits: limits.limits, logger: logger) { bound in
            // Machine-readable line: scripts and tests wait for it before connecting.
            // Unbuffered write so a pipe reader sees it immediately.
            FileHandle.standardOutput.write(Data("echo-server listening on \(host) port \(bound)\n".utf8))
        }
    }
}
