import ArgumentParser
import CommandLineSupport
import Foundation
import HTTPSupport
import HealthAPI

@main
struct CiliumHealthMain {
    static func main() async {
        await CommandMain.run(CiliumHealthCommand.self, arguments: hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `cilium-health -H URI status` works upstream (cobra persistent flags); ArgumentParser only
    /// reads options after the subcommand, so leading global options are moved behind it.
    static func hoistingGlobalOptions(_ args: [String]) -> [String] {
        var leading: [String] = []
        var rest = args[...]
        while let first = rest.first {
            if ["-H", "--host"].contains(first), rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--host=") || ["-D", "--debug"].contains(first) {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, let subcommand = rest.first else { return args }
        return [subcommand] + leading + rest.dropFirst()
    }
}

/// An error printed as `Error: <message>` with exit status 1, as upstream's CLI does.
struct CLIFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct CiliumHealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cilium-health",
        abstract: "Cilium Health Client: query the node-to-node connectivity the health daemon measures.",
        discussion: """
            Talks to the health daemon's REST API (default unix:///var/run/cilium/health.sock, \
            overridden by $CILIUM_HEALTH_SOCK or -H). In a local cluster run it through \
            `agent cluster exec NODE -- cilium-health ...`, which points it at that node.
            """,
        subcommands: [Status.self, Get.self, Ping.self])
}

struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "URI of the health API: unix:///path or tcp://host:port.")
    var host: String?
    @Flag(name: [.customShort("D"), .long], help: "Enable debug messages.")
    var debug = false

    func client(timeout: Duration = .seconds(30)) throws -> APIClient {
        let value = host ?? ProcessInfo.processInfo.environment["CILIUM_HEALTH_SOCK"].map { "unix://\($0)" }
            ?? "unix:///var/run/cilium/health.sock"
        do {
            return APIClient(endpoint: try APIEndpoint(parsing: value), timeout: timeout)
        } catch {
            throw CLIFailure(message: "\(error)")
        }
    }
}

/// Upstream's error text plus, when the socket cannot be reached, one line saying what to do.
func failure(_ prefix: String, _ error: any Error) -> CLIFailure {
    var text = "\(prefix): \(error)"
    if let transport = error as? APIClient.TransportError {
        switch transport.endpoint {
        case .unix:
            text += "\nIs the health daemon running? Point -H or $CILIUM_HEALTH_SOCK at its socket (local cluster: agent cluster exec NODE -- cilium-health ...)."
        case .tcp:
            text += "\nIs the health daemon running and listening at that address?"
        }
    }
    return CLIFailure(message: text)
}

/// `-o`: upstream matches "json" and "yaml" exactly and `^jsonpath=` for a template.
enum OutputFormat: ExpressibleByArgument {
    case json, yaml
    case jsonpath(String)

    init?(argument: String) {
        switch argument {
        case "json": self = .json
        case "yaml": self = .yaml
        case _ where argument.hasPrefix("jsonpath="): self = .jsonpath(String(argument.dropFirst("jsonpath=".count)))
        default: return nil
        }
    }

    static let help = ArgumentHelp(
        "json, yaml or jsonpath='{TEMPLATE}'.",
        discussion: """
            TEMPLATE is a kubectl-style JSONPath template over the JSON keys, e.g. \
            jsonpath='{.nodes[*].name}'. Missing keys print nothing; a newline ends the output.
            """,
        valueName: "format")
}

/// A JSONPath error is reported as upstream's: its own line on stderr, then exit 1 without an
/// "Error:" line. We add where in the template parsing stopped.
func reportJSONPathError(_ error: JSONPathTemplate.Error) -> ExitCode {
    var text = "Couldn't parse jsonpath expression: '\(error.message)'\n"
    if let offset = error.offset { text += "(at character \(offset + 1) of the template)\n" }
    FileHandle.standardError.write(Data(text.utf8))
    return ExitCode.failure
}

func render<T: Encodable>(_ value: T, as format: OutputFormat) throws -> String {
    switch format {
    case .json: return try GoJSON.commandOutput(value)
    case .yaml: return try GoYAML.commandOutput(value)
    case let .jsonpath(template):
        // Upstream sends an empty template down its plain JSON path.
        guard !template.isEmpty else { return try GoJSON.commandOutput(value) }
        do {
            return try JSONPathTemplate(template).render(value) + "\n"
        } catch let error as JSONPathTemplate.Error {
            throw reportJSONPathError(error)
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Display cilium connectivity to other nodes.",
        discussion: """
            Without --probe, shows the daemon's latest results (each path carries its own Last probed \
            time). With --probe, the daemon probes every address now and answers within about 10 s \
            even when nodes are down, reporting them as unreachable.
            """,
        aliases: ["connectivity"])

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Synchronously probe connectivity status now.")
    var probe = false
    @Flag(name: .long, help: "Print the per-path detail of every node.")
    var verbose = false
    @Flag(name: .long, help: "Accepted for compatibility; the table is already succinct.")
    var succinct = false
    @Option(name: [.short, .long], help: OutputFormat.help)
    var output: OutputFormat?

    func run() async throws {
        let client = try global.client()
        let response: HealthStatusResponse
        do {
            response = probe
                ? try await client.json(.PUT, "/v1beta/status/probe", as: HealthStatusResponse.self)
                : try await client.json(.GET, "/v1beta/status", as: HealthStatusResponse.self)
        } catch {
            throw failure(probe ? "Cannot get status/probe" : "Cannot get status", error)
        }
        if let output {
            print(try render(response, as: output), terminator: "")
        } else {
            print(HealthStatusFormatter.format(response, verbose: verbose), terminator: "")
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Display local cilium agent status.", aliases: ["inspect", "show"])

    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: OutputFormat.help)
    var output: OutputFormat?

    func run() async throws {
        let response: HealthResponse
        do {
            response = try await global.client().json(.GET, "/v1beta/healthz", as: HealthResponse.self)
        } catch let e as CLIFailure {
            throw e
        } catch {
            throw failure("Cannot get health for local instance", error)
        }
        if let output {
            print(try render(response, as: output), terminator: "")
        } else {
            print(HealthGetFormatter.format(response), terminator: "")
        }
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check whether the cilium-health API is up.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        do {
            _ = try await global.client(timeout: .seconds(10)).json(.GET, "/v1beta/healthz", as: HealthResponse.self)
        } catch let e as CLIFailure {
            throw e
        } catch {
            throw failure("Cannot ping", error)
        }
        print("OK")
    }
}
