import ArgumentParser
import ConnTest
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options shared by `generate` and `ls`.
struct SelectionOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .customLong("tag")],
            help: ArgumentHelp("Filter as upstream's `cue -t key=value` (repeatable).",
                               discussion: """
                                 component=all|default|network|policy|services|hostport|proxy|health (default: default, \
                                 which leaves out hostport-check and proxy-check; health is the cilium-health \
                                 scenario `run` adds, one check per node)
                                 kind=Deployment|Service|CiliumNetworkPolicy
                                 name=<object name>
                                 quarantine=false|true (default: false)
                                 topology=any|single-node (single-node drops multi-node checks)
                                 traffic=any|internal|external (internal drops checks that need the internet)
                                 type=autocheck|tool (default: autocheck)
                                 Filters apply in the order component, type, quarantine, topology, kind, name, traffic.
                                 """, valueName: "key=value"))
    var tags: [String] = []

    @Option(help: ArgumentHelp("Produce one of the upstream example files: \(Variant.allCases.map(\.rawValue).joined(separator: ", ")). Not combinable with -t.", valueName: "name"))
    var variant: String?

    @Option(name: .shortAndLong,
            help: "Namespace to set on every object (upstream sets none, so kubectl's current namespace applies); `run` applies into it (default cilium-test).")
    var namespace: String?

    @Option(name: .customLong("curl-image"), help: ArgumentHelp("Image for client pods (default: quay.io/cilium/alpine-curl:v1.5.0@sha256:…).", valueName: "image"))
    var curlImage: String?

    @Option(name: .customLong("echo-image"), help: ArgumentHelp("Image for echo servers (default: quay.io/cilium/json-mock:v1.3.2@sha256:…).", valueName: "image"))
    var echoImage: String?

    @Option(name: .customLong("image-repo"), help: ArgumentHelp("Registry/repository prefix replacing that of every image, for private mirrors (e.g. registry.local/cilium). --curl-image/--echo-image win over it.", valueName: "repo"))
    var imageRepo: String?

    @Option(name: .customLong("node-port"), parsing: .unconditional, help: ArgumentHelp("NodePort of echo-b (default 31414); nodeport probes follow.", valueName: "port"))
    var nodePort: Int?

    @Option(name: .customLong("host-port"), parsing: .unconditional, help: ArgumentHelp("hostPort of echo-b (default 40000); echo-c uses port+1, host-network echo servers shift by the same amount and probes follow. Pick a different value (and --node-port) to run a second copy in one cluster.", valueName: "port"))
    var hostPort: Int?

    @Option(name: .customLong("external-ip"), help: ArgumentHelp("Target of pod-to-external-1111 (default 1.1.1.1, probed over https). `run` on the local cluster simulates it and needs an address in 198.18.0.0/15 outside the cluster's ranges, e.g. 198.18.200.1; `run --kubeconfig` probes it as given (without it the check is skipped).", valueName: "ip"))
    var externalIP: String?

    @Option(name: .customLong("external-fqdn"), help: ArgumentHelp("Target of the FQDN policy check (default www.google.com, allowed as *.google.com; a custom name is allowed exactly). `run --kubeconfig` runs the check only when it is given.", valueName: "name"))
    var externalFQDN: String?

    var generatorOptions: GeneratorOptions {
        GeneratorOptions(namespace: namespace, curlImage: curlImage, echoImage: echoImage, imageRepository: imageRepo,
                         nodePort: nodePort, hostPort: hostPort, externalIP: externalIP, externalFQDN: externalFQDN)
    }

    /// The selected objects, after validating every input (errors are one line).
    func selectedResources() throws -> (resources: [Resource], variant: Variant?) {
        let options = generatorOptions
        try options.validate()
        if let variant {
            guard tags.isEmpty else {
                throw ConnTestError("--variant and -t cannot be combined (a variant fixes its own tags)")
            }
            let v = try Variant.named(variant)
            return (try v.resources(options), v)
        }
        let selection = try TagSelection.parse(tags)
        return (selection.filter(ConnectivitySuite.resources(options)), nil)
    }

    /// For `generate` and `ls`: a filter that matches nothing is a mistake (a typo in a name),
    /// not an empty manifest to apply.
    func nonEmptySelection() throws -> (resources: [Resource], variant: Variant?) {
        let selected = try selectedResources()
        guard !selected.resources.isEmpty else {
            throw ConnTestError("no object matches \(tags.map { "-t \($0)" }.joined(separator: " ")) (see `conntest ls` for the names)")
        }
        return selected
    }

    /// What the selection was taken from: the variant, or the whole suite before tag filters.
    func suiteResources() throws -> [Resource] {
        let options = generatorOptions
        if let variant { return try Variant.named(variant).resources(options) }
        return ConnectivitySuite.resources(options)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case yaml, json
}

struct Conntest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conntest",
        abstract: "Generate Cilium's legacy connectivity-check workload (Deployments, Services, CiliumNetworkPolicies).",
        discussion: """
            Each check is a client Deployment whose readiness and liveness probes are the test: \
            after `kubectl apply -f <file>`, every Deployment Available means the datapath works; \
            an unready or restarting pod points at the failing path. Without options, \
            `conntest generate` prints exactly upstream's connectivity-check.yaml.

            Exit codes: 0 success, 2 invalid input (one-line message on stderr), 1 other errors.
            """,
        subcommands: [Generate.self, List.self, Examples.self, Run.self, HistoryCommand.self])
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the selected objects as a YAML stream (or a JSON List).",
        discussion: """
            Examples:
              conntest generate > connectivity-check.yaml
              conntest generate -t component=all -t topology=single-node
              conntest generate --variant proxy --image-repo registry.local/cilium
              conntest generate --node-port 31415 --host-port 40010 --namespace second-copy
            """)

    @OptionGroup var selection: SelectionOptions

    @Option(name: .shortAndLong, help: "Output format.")
    var output: OutputFormat = .yaml

    @Option(name: .customLong("output-file"), help: ArgumentHelp("Write here instead of stdout; written atomically, untouched on error.", valueName: "path"))
    var outputFile: String?

    func run() throws {
        if let outputFile { try OutputFile.checkWritable(outputFile, flag: "--output-file") }
        let (resources, variant) = try selection.nonEmptySelection()
        let text: String
        switch output {
        case .json:
            text = ManifestRenderer.jsonList(resources)
        case .yaml:
            if let variant {
                text = try variant.render(selection.generatorOptions)
            } else {
                text = ManifestRenderer.generatedHeader + ManifestRenderer.dump(resources)
            }
        }
        if let outputFile {
            try OutputFile.write(text, to: outputFile)
        } else {
            print(text, terminator: "")
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the selected objects as a KIND COMPONENT TOPOLOGY NAME table (as upstream `cue ls`).")

    @OptionGroup var selection: SelectionOptions

    func run() throws {
        print(ResourceTable.render(try selection.nonEmptySelection().resources), terminator: "")
    }
}

struct Examples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write every variant file (connectivity-check*.yaml, connectivity-debug-tools.yaml) into a directory.",
        discussion: "Used to refresh examples/connectivity-check/; the test suite fails when those files are stale.")

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Directory to write into.", valueName: "dir"))
    var outputDir = "examples/connectivity-check"

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: outputDir, isDirectory: &isDirectory) else {
            throw ConnTestError("invalid --output-dir '\(outputDir)': no such directory")
        }
        guard isDirectory.boolValue else { throw ConnTestError("invalid --output-dir '\(outputDir)': not a directory") }
        for variant in Variant.allCases {
            try OutputFile.write(try variant.render(), to: outputDir + "/" + variant.fileName)
        }
    }
}

/// Custom entry point: input errors must exit 2 with one line (argument
/// parser would exit 64 and print usage), and help must still exit 0.
func runMain() async -> Never {
    do {
        var command = try Conntest.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
        exit(0)
    } catch let error as ConnTestError {
        fail(error.description, code: isIOError(error) ? 1 : 2)
    } catch {
        let code = Conntest.exitCode(for: error)
        if code == .success {
            Conntest.exit(withError: error)  // --help / --version
        }
        fail(oneLine(Conntest.message(for: error)), code: 2)
    }
}

func isIOError(_ error: ConnTestError) -> Bool { error.description.hasPrefix("cannot write") }

/// Argument parser messages can span lines; the contract is one line.
func oneLine(_ message: String) -> String {
    var text = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.filter { !$0.isEmpty }.joined(separator: "; ")
    if text.contains("Unknown option") {
        text += " (see 'conntest generate --help' or 'conntest ls --help' for the valid options)"
    } else if text.contains("Unexpected argument") || text.contains("Missing expected argument") {
        text += " (valid commands: generate|ls|examples|run; tags go after -t, e.g. -t component=all)"
    }
    return text
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

func fail(_ message: String, code: Int32) -> Never {
    // write(2) on fd 2: avoids touching the non-Sendable `stderr` global under Swift 6.
    let line = Array("conntest: error: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

await runMain()
