import Agent
import ArgumentParser
import ConnTest
import Foundation
import HealthAPI
import HealthHistory

enum RunHistoryOptions {
    static var defaultPath: String { StateLayout.defaultRoot + "/conntest-history.db" }
}

/// `conntest history`: the runs `conntest run` kept, or one check's record across them.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List the results `conntest run` kept: each run, or one check across runs.")

    @Option(name: .customLong("history-db"), help: ArgumentHelp("The run history (default: <state>/conntest-history.db).", valueName: "path"))
    var historyDB: String?
    @Option(help: ArgumentHelp("Only this check's record in each run that had it.", valueName: "name"))
    var check: String?
    @Option(parsing: .unconditional, help: "How many of the latest runs (1-10000).")
    var last = 20
    @Option(name: .shortAndLong, help: "Report format on stdout.")
    var output: RunOutputFormat = .text

    func run() throws {
        guard (1...10000).contains(last) else { throw ConnTestError("--last must be 1-10000, got \(last)") }
        let path = historyDB ?? RunHistoryOptions.defaultPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConnTestError("invalid --history-db '\(path)': no such file (no run has been kept there yet)")
        }
        if isDirectory.boolValue { throw ConnTestError("invalid --history-db '\(path)': is a directory") }
        let runs: [RunHistory.Run]
        do { runs = try RunHistory(path: path).runs(limit: last, check: check) } catch { throw ConnTestError("invalid --history-db: \(error)") }
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(runs), as: UTF8.self))
        case .text:
            var w = TabWriter(minWidth: 2, tabWidth: 0, padding: 3, padChar: " ")
            if let check {
                w.write("RUN\tSTARTED\tCLUSTER\tRESULT\tREADY\tRESTARTS\tDROPS\tDURATION\n")
                for r in runs {
                    for c in r.checks where c.name == check {
                        w.write("\(r.id ?? 0)\t\(r.started)\t\(r.cluster)\t\(c.result)\t\(c.readySeconds.map { String(format: "%.1fs", $0) } ?? "-")\t"
                                + "\(c.restarts)\t\(c.drops.map(String.init) ?? "-")\t\(String(format: "%.1fs", c.durationSeconds))\n")
                    }
                }
            } else {
                w.write("RUN\tSTARTED\tCLUSTER\tEXIT\tCHECKS\tPASSED\tFAILED\tDURATION\n")
                for r in runs {
                    w.write("\(r.id ?? 0)\t\(r.started)\t\(r.cluster)\t\(r.exitCode)\t\(r.checks.count)\t\(r.passed)\t\(r.failed)\t"
                            + "\(String(format: "%.1fs", r.durationSeconds))\n")
                }
            }
            print(w.flush(), terminator: "")
            if runs.isEmpty { print(check.map { "no kept run has check '\($0)'" } ?? "no runs kept yet") }
        }
    }
}
