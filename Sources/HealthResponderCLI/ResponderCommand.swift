import ArgumentParser
import CommandLineSupport
import Foundation
import HTTPSupport
import HealthDaemon
import Hummingbird
import Logging
import ServiceLifecycle

/// `cilium-health-responder`: the process inside the health endpoint's namespace that answers
/// `GET /hello` so peers can probe the pod network.
@main
struct ResponderMain {
    static func main() async { await CommandMain.run(ResponderCommand.self) }
}

struct ResponderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cilium-health-responder",
        abstract: "Answer GET /hello with 200 on every address of this network namespace.")

    @Option(name: .long, parsing: .unconditional, help: "TCP port to listen on, 1-65535.")
    var listen: Int = 4240
    @Option(name: .long, help: "Write the process id here once listening; removed on exit.")
    var pidfile: String?
    @OptionGroup var limits: ServerLimitOptions

    func validate() throws {
        guard (1...65535).contains(listen) else { throw ValidationError("--listen must be a port 1-65535, got \(listen)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "cilium-health-responder")
        // `[::]` takes IPv4 too (v4-mapped); with IPv6 disabled in the namespace, or no IPv6 address
        // but loopback (the resolver then refuses "::": "Address family for hostname not supported"),
        // only 0.0.0.0 can bind.
        let address = Self.ipv6Enabled && Self.hasIPv6Address(ifInet6: Self.read("/proc/net/if_inet6")) ? "::" : "0.0.0.0"
        let pidfile = self.pidfile
        let app = Application(
            router: HelloResponder.router(),
            server: limits.limits.server,
            configuration: .init(address: .hostname(address, port: listen)),
            onServerRunning: { _ in
                if let pidfile { try? Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: pidfile)) }
            },
            logger: logger)
        defer { if let pidfile { unlink(pidfile) } }
        try await app.runService()
    }

    static var ipv6Enabled: Bool {
        read("/proc/sys/net/ipv6/conf/all/disable_ipv6").trimmingCharacters(in: .whitespacesAndNewlines) == "0"
    }

    /// Whether `/proc/net/if_inet6` lists an address other than `::1`, as getaddrinfo's
    /// AI_ADDRCONFIG requires before it resolves an IPv6 literal.
    static func hasIPv6Address(ifInet6 text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            guard let address = line.split(separator: " ").first else { return false }
            return address.count == 32 && address != "00000000000000000000000000000001"
        }
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
