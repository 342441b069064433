import Agent
import Foundation

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
