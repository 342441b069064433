import ConnTest
import Foundation
import HealthAPI
import Yams

/// Every parser that reads outside input, fed the same bytes: the health and agent API JSON
/// (what cilium-health decodes from a socket), JSONPath templates (`-o jsonpath=`), policies
/// (CiliumNetworkPolicy / NetworkPolicy YAML, through the policy compiler's parsers), `-t` tags and
/// Go durations (`--timeout`). Errors are expected; a crash, a hang or unbounded memory is a bug.
///
/// Built with `-Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING` (bench/fuzz.sh) libFuzzer drives it;
/// a plain build is a regression runner: `fuzz-parsers FILE…` replays saved inputs (CI smoke).
enum FuzzParsers {
    static func one(_ data: Data) {
        decodeAPI(data)
        guard let text = String(data: data, encoding: .utf8) else { return }
        jsonPath(text)
        policy(text)
        _ = try? TagSelection.parse(text.split(separator: "\n").map(String.init))
        _ = GoDuration.parse(text)
    }

    static func decodeAPI(_ data: Data) {
        let decoder = JSONDecoder()
        // Decoded values go back out through our Go-compatible encoders, as cilium-health does.
        if let status = try? decoder.decode(HealthStatusResponse.self, from: data) {
            _ = try? GoJSON.commandOutput(status)
            _ = try? GoYAML.commandOutput(status)
            _ = HealthStatusFormatter.format(status, verbose: true)
        }
        if let health = try? decoder.decode(HealthResponse.self, from: data) {
            _ = try? GoJSON.commandOutput(health)
            _ = HealthGetFormatter.format(health)
        }
        _ = try? decoder.decode(ClusterNodeStatus.self, from: data)
    }

    static let sample = HealthStatusResponse(
        timestamp: "2026-01-01T00:00:00Z", probeInterval: "1m0s", local: SelfStatus(name: "c/node-1"),
        nodes: [NodeStatus(name: "c/node-2", host: AddressesStatus(primaryAddress: PathStatus(
            ip: "198.18.0.12", icmp: ConnectivityStatus(latency: 1000, status: "", lastProbed: "now"), http: nil),
            secondaryAddresses: []), healthEndpoint: nil)])

    static func jsonPath(_ template: String) {
        guard let t = try? JSONPathTemplate(template) else { return }
        _ = try? t.render(sample)
    }

    /// YAML through Yams (libyaml), then into the suite's document tree and the policy parsers.
    static func policy(_ text: String) {
        guard let node = try? Yams.compose(yaml: text), let document = Self.tree(node, depth: 0),
              let kind = document["kind"]?.stringValue.flatMap(ResourceKind.init(rawValue:)) else { return }
        let name = document["metadata"]?["name"]?.stringValue ?? "fuzz"
        _ = try? PolicyDocument(resource: Resource(kind: kind, name: name, labels: nil, document: document))
    }

    /// Yams' node as the suite's YAMLNode (ints and booleans as the generator writes them).
    static func tree(_ node: Yams.Node, depth: Int) -> YAMLNode? {
        guard depth < 64 else { return nil }
        switch node {
        case .scalar(let s):
            if let i = Int(s.string) { return .int(i) }
            if s.string == "true" || s.string == "false" { return .bool(s.string == "true") }
            return .string(s.string)
        case .mapping(let m):
            var pairs: [(String, YAMLNode)] = []
            for (k, v) in m {
                guard let key = k.string, let value = tree(v, depth: depth + 1) else { return nil }
                pairs.append((key, value))
            }
            return .map(pairs)
        case .sequence(let items):
            var out: [YAMLNode] = []
            for item in items {
                guard let value = tree(item, depth: depth + 1) else { return nil }
                out.append(value)
            }
            return .seq(out)
        case .alias:
            return nil
        }
    }
}

#if FUZZING
/// libFuzzer's entry for programs that keep their own main.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    FuzzParsers.one(Data(bytes: bytes, count: count))
    return 0
}

/// SwiftPM links an executable target's entry point as `<Target>_main` (main is aliased to it):
/// it hands control to libFuzzer's driver, as libFuzzer's own main would.
@_cdecl("FuzzParsers_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOne)
}
#else
@main
struct FuzzRegressions {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("fuzz-parsers: no such file '\(path)'\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            FuzzParsers.one(data)
        }
        print("fuzz-parsers: \(files.count) inputs replayed, no crash")
    }
}
#endif
