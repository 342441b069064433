import Agent
import Foundation

/// Names and places every local-cluster test shares: the built binaries next to the test bundle,
/// and a fresh cluster name with its own state directory (`nh-t…` namespaces, which
/// scripts/test.sh checks are all gone afterwards).
enum ClusterNaming {
    static var binDir: String {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
            .split(separator: "/").dropLast().reduce("") { $0 + "/" + $1 }
    }

    /// The checkout this test was compiled from (for its examples/).
    static let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// A cluster that does not exist yet: for tests where the code under test brings it up (or must
    /// refuse to). `remove()` takes down whatever came up and deletes the state directory.
    struct Scratch {
        let name: String
        let stateDir: String
        var layout: StateLayout { StateLayout(cluster: name, root: stateDir) }

        init(prefix: String = "t") {
            name = prefix + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            stateDir = NSTemporaryDirectory() + "nethealth-test-\(name)"
        }

        func remove() {
            _ = try? LocalCluster(name: name, stateRoot: stateDir).down()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
    }
}
