import Datapath
import Foundation

/// Finds the compiled datapath object, building it when only the source is at hand.
///
/// Order: `$DATAPATH_BPF_OBJECT`; `policy.bpf.o` next to the executable (an installed `conntest`
/// ships it there); in a source checkout (an ancestor of the executable holding `bpf/build.sh`),
/// `<checkout>/.build/bpf/policy.bpf.o`, (re)built with `bpf/build.sh` (clang beside `swift`) when
/// missing or older than `bpf/*.c`/`*.h`; finally `BPFObject.defaultObjectPath()` (working directory).
public enum PolicyObjectLocator {
    public static func locateOrBuild(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let env = environment[BPFObject.objectPathEnvironmentKey], !env.isEmpty { return env }
        let exeDir = executableDirectory()
        let besideExe = exeDir + "/" + BPFObject.defaultObjectName
        if FileManager.default.isReadableFile(atPath: besideExe) { return besideExe }
        if let checkout = checkoutRoot(from: exeDir) {
            let object = checkout + "/.build/bpf/" + BPFObject.defaultObjectName
            if isFresh(object, sources: checkout + "/bpf") { return object }
            let r = try Command.run(["bash", checkout + "/bpf/build.sh"], timeout: 120)
            let out = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
            guard r.status == 0, FileManager.default.isReadableFile(atPath: out) else {
                throw AgentError("bpf/build.sh failed (\(r.status)): \(r.stderr)")
            }
            return out
        }
        if let found = BPFObject.defaultObjectPath(environment: environment) { return found }
        throw AgentError("\(BPFObject.defaultObjectName) not found: install it next to the executable, "
                         + "set \(BPFObject.objectPathEnvironmentKey), or run bpf/build.sh in the checkout")
    }

    static func executableDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        return (exe as NSString).deletingLastPathComponent
    }

    /// The nearest ancestor (up to 6 levels: `.build/<triple>/debug/x`) with `bpf/build.sh`.
    static func checkoutRoot(from dir: String) -> String? {
        var url = URL(fileURLWithPath: dir)
        for _ in 0..<6 {
            if FileManager.default.isReadableFile(atPath: url.appendingPathComponent("bpf/build.sh").path) { return url.path }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// The object exists and is newer than every C source and header beside build.sh.
    static func isFresh(_ object: String, sources dir: String) -> Bool {
        let fm = FileManager.default
        guard let built = (try? fm.attributesOfItem(atPath: object))?[.modificationDate] as? Date else { return false }
        let files = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        return !files.filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }.contains { name in
            guard let m = (try? fm.attributesOfItem(atPath: dir + "/" + name))?[.modificationDate] as? Date else { return false }
            return m > built
        }
    }
}
