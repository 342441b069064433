import Agent
import ArgumentParser
import CommandLineSupport
import Foundation
import HTTPSupport
import HealthAPI
import HealthDaemon
import HealthHistory

/// The filters `history` and `plot` share; every value is checked before the API is asked.
struct HistoryFilterOptions: ParsableArguments {
    @Argument(help: "Only this target node (its name, e.g. node-2, or cluster/node-2).")
    var node: String?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("How far back, e.g. 30m, 6h or 7d.", valueName: "duration"))
    var since: String?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Window width, e.g. 1m or 1h (default: about 12 windows over --since).", valueName: "duration"))
    var step: String?
    @Option(name: .long, help: ArgumentHelp("Only the host path or the health endpoint's.", valueName: "host|endpoint"))
    var path: String?
    @Option(name: .customLong("protocol"), help: ArgumentHelp("Only ICMP or HTTP probes.", valueName: "icmp|http"))
    var proto: String?
    @Option(name: .long, help: ArgumentHelp("Only IPv4 or IPv6 addresses.", valueName: "ipv4|ipv6"))
    var family: String?

    func query(defaultSince: String, windows: Int = HistoryQuery.defaultWindows) throws -> HistoryQuery {
        do {
            let since = try HistoryQuery.duration(since ?? defaultSince, "--since")
            var q = HistoryQuery(since: since, step: try step.map { try HistoryQuery.duration($0, "--step") }, node: node,
                                 path: path, protocol: proto, family: family)
            if q.step == nil { q.step = HistoryQuery.automaticStep(since: since, windows: windows) }
            try q.validate()
            return q
        } catch let error as HistoryError {
            throw ValidationError(error.description)
        }
    }
}

func fetchHistory(_ global: GlobalOptions, _ query: HistoryQuery) async throws -> HistoryResponse {
    do {
        return try await global.client().json(.GET, query.requestPath, as: HistoryResponse.self)
    } catch {
        throw failure("Cannot get history", error)
    }
}

enum HistoryOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show RTT percentiles, loss and trends from the daemon's probe history.",
        discussion: """
            Per target address and protocol, per window: samples, loss % (failed samples, each unanswered \
            ICMP echo included, over all samples), p50, p90 and p99 of the successful RTTs. Then a trend \
            verdict per target: the last --trend-window (default: the step) against the one before it, \
            `slower`/`faster` only when a Mann-Whitney U test finds the change significant (p < 0.05, at \
            least 8 successful samples each side) and the median moved by 1.5x and 1 ms or more; \
            otherwise `steady`, or `insufficient-data`.

            The daemon keeps raw samples for 24 h, per-minute rollups for 7 d and per-hour rollups for 90 d: \
            a range older than the raw samples needs a --step of whole minutes (whole hours read hour rollups).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var filter: HistoryFilterOptions
    @Option(name: .customLong("trend-window"), parsing: .unconditional,
            help: ArgumentHelp("Width of each window the trend compares (default: the step).", valueName: "duration"))
    var trendWindow: String?
    @Option(name: [.short, .long], help: "table, json or csv.")
    var output: HistoryOutputFormat = .table

    func query() throws -> HistoryQuery {
        var q = try filter.query(defaultSince: "1h")
        do {
            q.trendWindow = try trendWindow.map { try HistoryQuery.duration($0, "--trend-window") }
            try q.validate()
        } catch let error as HistoryError {
            throw ValidationError(error.description)
        }
        return q
    }

    func validate() throws { _ = try query() }

    func run() async throws {
        let response = try await fetchHistory(global, try query())
        switch output {
        case .table: print(HistoryFormatter.table(response), terminator: "")
        case .csv: print(HistoryFormatter.csv(response), terminator: "")
        case .json: print(try GoJSON.commandOutput(response), terminator: "")
        }
    }
}

struct Plot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the probe history as Smokeping-style charts (SVG, or PNG with rsvg-convert).",
        discussion: """
            One panel per target address and protocol: the median RTT as a line, the p10-p90 spread as a \
            band, loss as red marks along the bottom (darker for more), and windows where every sample \
            failed shaded red. About 120 windows over --since unless --step is given.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var filter: HistoryFilterOptions
    @Option(name: [.short, .long], help: ArgumentHelp("The file to write: NAME.svg, or NAME.png (needs rsvg-convert, Debian's librsvg2-bin).", valueName: "file"))
    var output: String

    func validate() throws {
        _ = try filter.query(defaultSince: "24h", windows: 120)
        try asUsageError { _ = try ChartFile.validate(output) }
    }

    func run() async throws {
        let response = try await fetchHistory(global, try filter.query(defaultSince: "24h", windows: 120))
        try ChartFile.write(RTTChart.svg(response), to: output)
        print("wrote \(output): \(response.series.count) series, \(response.since) to \(response.until)")
    }
}

struct HeatmapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "Draw a node × node grid of the latest RTTs (Goldpinger's 1/10/100 ms colours).",
        discussion: """
            Row = probing node, column = target: the latest ICMP RTT of the target's host address as that \
            node's `status` shows it; unreachable pairs are black with a cross, unprobed ones grey. The \
            local daemon gives one row; every --api adds another node's. On a local cluster, \
            `agent cluster heatmap` gathers every node.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("api"), help: ArgumentHelp("Another node's health API, unix:///path or tcp://host:port (repeatable).", valueName: "uri"))
    var apis: [String] = []
    @Option(name: [.short, .long], help: ArgumentHelp("The file to write: NAME.svg or NAME.png.", valueName: "file"))
    var output: String

    func validate() throws {
        for api in apis {
            do { _ = try APIEndpoint(parsing: api) } catch { throw ValidationError("invalid --api: \(error)") }
        }
        try asUsageError { _ = try ChartFile.validate(output) }
    }

    func run() async throws {
        let local: HealthStatusResponse
        do {
            local = try await global.client().json(.GET, "/v1beta/status", as: HealthStatusResponse.self)
        } catch {
            throw failure("Cannot get status", error)
        }
        let others = await ClusterView.gather(try apis.map { try APIEndpoint(parsing: $0) })
        for problem in others.failures { FileHandle.standardError.write(Data("warning: no row for \(problem)\n".utf8)) }
        var statuses = others.statuses
        statuses[local.local?.name ?? "local"] = local
        try ChartFile.write(ClusterView.heatmap(statuses), to: output)
        print("wrote \(output): \(statuses.count) of \(apis.count + 1) nodes' views")
    }
}
