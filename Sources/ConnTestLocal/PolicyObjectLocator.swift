import Agent
import Datapath
import Foundation

/// Finds the compiled datapath object, building it when only the source is at hand.
///
/// Order: `$DATAPATH_BPF_OBJECT`; `policy.bpf.o` next to the executable (an installed `conntest`
/// ships it there); `.build/bpf/` or `bpf/` of the working directory or an ancestor of the
/// executable (a source checkout). If none exists but `bpf/build.sh` is found in an ancestor of
/// the executable, it is run (clang beside `swift`) and writes `<checkout>/.build/bpf/policy.bpf.o`.
public enum PolicyObjectLocator {
    public static func locateOrBuild(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let env = environment[BPFObject.objectPathEnvironmentKey], !env.isEmpty { return env }
        let exeDir = executableDirectory()
        let besideExe = exeDir + "/" + BPFObject.defaultObjectName
        if FileManager.default.isReadableFile(atPath: besideExe) { return besideExe }
        if let found = BPFObject.defaultObjectPath(environment: environment) { return found }
        var dir = URL(fileURLWithPath: exeDir)
        for _ in 0..<6 {
            let script = dir.appendingPathComponent("bpf/build.sh").path
            if FileManager.default.isReadableFile(atPath: script) {
                let r = try Command.run(["bash", script], timeout: 120)
                let out = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
                guard r.status == 0, FileManager.default.isReadableFile(atPath: out) else {
                    throw AgentError("bpf/build.sh failed (\(r.status)): \(r.stderr)")
                }
                return out
            }
            dir.deleteLastPathComponent()
        }
        throw AgentError("\(BPFObject.defaultObjectName) not found: install it next to the executable, "
                         + "set \(BPFObject.objectPathEnvironmentKey), or run bpf/build.sh in the checkout")
    }

    static func executableDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        return (exe as NSString).deletingLastPathComponent
    }
}
