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

    /// `cilium-health -H URI status` and `cilium-health -o json status` work upstream (cobra
    /// flags go anywhere); ArgumentParser reads a subcommand's options only after it, so options
    /// before the subcommand are moved behind it. A value-taking option's value is never taken
    /// for the subcommand.
    static func hoistingGlobalOptions(_ args: [String]) -> [String] {
        let subcommands: Set<String> = ["status", "connectivity", "get", "inspect", "show", "ping", "history", "plot", "heatmap",
                                        "help"]
        let takesValue: Set<String> = ["-H", "--host", "-o", "--output", "--timeout"]
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { return args }
            if subcommands.contains(arg) {
                guard i > 0 else { return args }
                return [arg] + args[..<i] + args[(i + 1)...]
            }
            guard arg.hasPrefix("-") else { return args }
            i += takesValue.contains(arg) ? 2 : 1
        }
        return args
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
        subcommands: [Status.self, Get.self, Ping.self, History.self, Plot.self, HeatmapCommand.self])
}

struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "URI of the health API: unix:///path or tcp://host:port.")
    var host: String?
    @Flag(name: [.customShort("D"), .long], help: "Enable debug messages.")
    var debug = false
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Give up on the API after this long, e.g. 5s or 500ms (a bare number is seconds); `status --probe` waits the 10 s probe deadline on top.",
                               valueName: "duration"))
    var timeout = "5s"

    /// The probe round's own bound (HealthProber's ICMP deadline); `--probe` waits for it on top of --timeout.
    static let probeDeadline: Duration = .seconds(10)

    func validate() throws {
        _ = try endpoint()
        guard GoDuration.parse(timeout) != nil else {
            throw ValidationError("invalid --timeout '\(timeout)': use a positive duration, e.g. 5s, 500ms or 1m")
        }
    }

    private func endpoint() throws -> APIEndpoint {
        let value = host ?? ProcessInfo.processInfo.environment["CILIUM_HEALTH_SOCK"].map { "unix://\($0)" }
            ?? "unix:///var/run/cilium/health.sock"
        do {
            return try APIEndpoint(parsing: value)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// A client bounded by --timeout, plus `extra` for calls that wait on purpose (a probe round).
    func client(extra: Duration = .zero) throws -> APIClient {
        APIClient(endpoint: try endpoint(), timeout: (GoDuration.parse(timeout) ?? .seconds(5)) + extra)
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
    case json, yaml, wide
    case jsonpath(String)

    init?(argument: String) {
        switch argument {
        case "json": self = .json
        case "yaml": self = .yaml
        case "wide": self = .wide
        case _ where argument.hasPrefix("jsonpath="): self = .jsonpath(String(argument.dropFirst("jsonpath=".count)))
        default: return nil
        }
    }

    static let help = ArgumentHelp(
        "json, yaml, jsonpath='{TEMPLATE}' or (status only) wide.",
        discussion: """
            TEMPLATE is a kubectl-style JSONPath template over the JSON keys, e.g. \
            jsonpath='{.nodes[*].name}'. Missing keys print nothing; a newline ends the output. \
            wide (not upstream) prints the usual table, then the prober's own scheduling delay \
            and, per path, ICMP loss, jitter, RTT and the timeout learnt from it.
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
    case .wide: throw ValidationError("-o wide is only available for `status`")
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
    @Option(name: .customLong("expect-nodes"), parsing: .unconditional,
            help: ArgumentHelp("Ours: exit 1 unless at least N nodes are listed and every probed status is empty (cilium-cli's `cilium-health` test verdict, e.g. for an exec readiness probe); the problems go to stderr, the output is unchanged.",
                               valueName: "N"))
    var expectNodes: Int?

    func validate() throws {
        if let expectNodes, expectNodes < 1 { throw ValidationError("--expect-nodes must be at least 1, got \(expectNodes)") }
        if expectNodes != nil, case .wide = output { throw ValidationError("--expect-nodes judges the upstream status; it cannot be combined with -o wide") }
    }

    func run() async throws {
        let client = try global.client(extra: probe ? GlobalOptions.probeDeadline : .zero)
        var wide = false
        if case .wide = output { wide = true }
        let response: HealthStatusResponse?
        do {
            response = probe
                ? try await client.json(.PUT, "/v1beta/status/probe", as: HealthStatusResponse.self)
                : wide ? nil : try await client.json(.GET, "/v1beta/status", as: HealthStatusResponse.self)
        } catch {
            throw failure(probe ? "Cannot get status/probe" : "Cannot get status", error)
        }
        if wide {
            let detail: WideStatusResponse
            do {
                detail = try await client.json(.GET, "/v1beta/status/wide", as: WideStatusResponse.self)
            } catch {
                throw failure("Cannot get status", error)
            }
            print(WideStatusFormatter.format(detail), terminator: "")
        } else if let response {
            if let output {
                print(try render(response, as: output), terminator: "")
            } else {
                print(HealthStatusFormatter.format(response, verbose: verbose), terminator: "")
            }
            if let expectNodes {
                let problems = HealthStatusValidation.problems(response, expectedNodes: expectNodes)
                if !problems.isEmpty {
                    FileHandle.standardError.write(Data((problems.joined(separator: "\n") + "\n").utf8))
                    throw ExitCode.failure
                }
            }
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Display local cilium agent status.", aliases: ["inspect", "show"])

    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: OutputFormat.help)
    var output: OutputFormat?

    func validate() throws {
        if case .wide = output { throw ValidationError("-o wide is only available for `status`") }
    }

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
            _ = try await global.client().json(.GET, "/v1beta/healthz", as: HealthResponse.self)
        } catch let e as CLIFailure {
            throw e
        } catch {
            throw failure("Cannot ping", error)
        }
        print("OK")
    }
}
