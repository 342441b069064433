import Agent
import Foundation
import XCTest

/// `conntest run -o json` as the tests read it.
struct RunReport: Decodable {
    struct Check: Decodable {
        let name: String
        let result: String
        let reason: String?
        /// The newest probe failure the kubelet reported (`Readiness probe failed: …`).
        let lastFailure: String?
        let drops: Int?
        let topology: String
    }
    let checks: [Check]
    let exitCode: Int

    init(json: String) throws { self = try JSONDecoder().decode(RunReport.self, from: Data(json.utf8)) }

    func check(_ name: String) -> Check? { checks.first { $0.name == name } }
    func result(_ name: String) -> String? { check(name)?.result }
}

extension ClusterFixture {
    /// `conntest run --cluster <this cluster> ARGS`, as a user would run it.
    func conntestRun(_ args: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        try Command.run(["env", "NETHEALTH_STATE_DIR=\(stateDir)", "\(binDir)/conntest", "run", "--cluster", name] + args,
                        timeout: timeout)
    }
}

extension ClusterFixture {
    /// `conntest run --kubeconfig PATH ARGS` with no $KUBECONFIG and no --cluster: any cluster's path.
    func conntestKubeArgv(_ kubeconfig: String, _ args: [String]) -> [String] {
        ["/usr/bin/env", "-u", "KUBECONFIG", "NETHEALTH_STATE_DIR=\(stateDir)", "\(binDir)/conntest", "run", "--kubeconfig", kubeconfig] + args
    }

    func conntestRunKube(_ kubeconfig: String, _ args: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        try Command.run(conntestKubeArgv(kubeconfig, args), timeout: timeout)
    }
}

extension ClusterFixture {
    /// `kubectl apply` of `yaml` (retried while the API settles), then waits for the namespace's
    /// default ServiceAccount, without which pods are refused.
    func apply(_ yaml: String, waitForServiceAccountIn ns: String) throws {
        let path = stateDir + "/\(ns).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        try eventually("\(ns)'s objects applied", timeout: 30) {
            (try? kubectl(["apply", "-f", path])) != nil
        }
        try eventually("\(ns)'s default service account", timeout: 20) {
            (try? kubectl(["get", "serviceaccount", "default", "-n", ns, "-o", "name"])) != nil
        }
    }

    /// Namespace `ns` holding someone else's pod `someone-elses`: what conntest must refuse to run in.
    func applyNamespaceWithForeignPod(_ ns: String) throws {
        try apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: \(ns)}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: someone-elses, namespace: \(ns)}
            spec:
              containers: [{name: c, image: quay.io/cilium/alpine-curl:v1.5.0, command: [sleep, "1000"]}]
            """, waitForServiceAccountIn: ns)
    }

    func names(_ kind: String, in ns: String) throws -> [String] {
        try kubectl(["get", kind, "-n", ns, "-o", "jsonpath={.items[*].metadata.name}"]).split(separator: " ").map(String.init)
    }

    /// After a default run: conntest's namespace is still there, labelled as ours, and holds nothing
    /// of the run (the next run reuses it without the namespace controller's 5 s wait). With
    /// `orAbsent`, a run that never made it (refused before) passes too.
    func assertOnlyTheEmptyNamespaceStays(_ ns: String = "cilium-test", orAbsent: Bool = false,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        if orAbsent, (try? kubectl(["get", "namespace", ns, "-o", "name"])) == nil { return }
        XCTAssertEqual(try kubectl(["get", "namespace", ns, "-o", #"jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}"#]),
                       "conntest", "namespace kept, labelled as conntest's", file: file, line: line)
        for kind in ["deployments", "replicasets", "pods", "services", "leases", "ciliumnetworkpolicies"] {
            XCTAssertEqual(try names(kind, in: ns), [], "\(kind) left in \(ns)", file: file, line: line)
        }
    }
}

/// A run's `-o json` report and JUnit file through validators we did not write: the JSON schema
/// (python jsonschema) and junitparser, whose totals must read `written`.
func assertReportsConform(json: String, junit: String, written: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let root = ClusterNaming.repositoryRoot
    let schema = try Command.run(["python3", root + "/scripts/validate/json-schema.py",
                                  root + "/schemas/conntest-report.schema.json", "-"], input: json)
    XCTAssertEqual(schema.status, 0, "report does not match its schema: \(schema.stdout)\(schema.stderr)", file: file, line: line)
    let junitparser = try Command.run(["python3", root + "/scripts/validate/junit-read.py", junit])
    XCTAssertEqual(junitparser.status, 0, junitparser.stderr, file: file, line: line)
    XCTAssertTrue(junitparser.stdout.contains(#""written": "# + written), junitparser.stdout, file: file, line: line)
}
