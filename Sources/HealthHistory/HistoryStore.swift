import Foundation
import GRDB
import HealthAPI
import Logging
import Synchronization

/// How long each resolution is kept, as Smokeping's RRD consolidation: raw samples, then
/// per-minute and per-hour rollups; `maxBytes` bounds the database file whatever the load.
public struct HistoryRetention: Sendable, Equatable {
    public var raw: Duration
    public var minutes: Duration
    public var hours: Duration
    public var maxBytes: Int64

    public init(raw: Duration = .seconds(86400), minutes: Duration = .seconds(7 * 86400),
                hours: Duration = .seconds(90 * 86400), maxBytes: Int64 = 512 << 20) {
        self.raw = raw
        self.minutes = minutes
        self.hours = hours
        self.maxBytes = maxBytes
    }

    public static let standard = HistoryRetention()

    /// Rollups are built from raw samples, so raw must outlive the longest rollup period.
    public func validate() throws {
        guard raw >= .seconds(3600) else {
            throw HistoryError("history raw retention must be at least 1h (hour rollups are built from raw samples), got \(raw)", kind: .badRequest)
        }
        guard minutes > .zero, hours > .zero else { throw HistoryError("history retention windows must be positive", kind: .badRequest) }
        guard maxBytes >= 1 << 20 else {
            throw HistoryError("history size bound must be at least 1 MiB, got \(maxBytes) bytes", kind: .badRequest)
        }
    }
}

/// Rollup resolutions; the raw value is the period in milliseconds (the unit of `t` columns).
enum RollupLevel: Int64, CaseIterable, Sendable {
    case minute = 60_000
    case hour = 3_600_000
}

struct RollupRow {
    var count: Int
    var failures: Int
    var min, p10, p50, p90, p99, max: Int64?
}

/// A node's probe history in one SQLite file (GRDB, WAL mode). Samples arrive in batches
/// (`append`), `maintain` consolidates and applies retention; both are safe to call from any task.
///
/// Durability: WAL with synchronous=NORMAL keeps every committed batch across `kill -9` (only the
/// batch not yet written is lost) and never leaves a torn file. A file that is not SQLite, fails
/// its integrity check, or is another program's database is moved aside (`setAside`), not reused.
public final class HistoryStore: Sendable {
    public let path: String
    public let retention: HistoryRetention
    /// Where an unusable earlier file was moved when this store was opened, with the reason.
    public let setAside: (path: String, reason: String)?
    let pool: DatabasePool
    private let targetIDs = Mutex<[HistoryTarget: Int64]>([:])

    /// `PRAGMA application_id` of our files ("NHH1"), so a foreign database is recognised.
    static let applicationID: Int32 = 0x4E48_4831

    public init(path: String, retention: HistoryRetention = .standard, logger: Logger? = nil) throws {
        try retention.validate()
        self.path = path
        self.retention = retention
        let opened = try SQLiteFile.open(path, kind: "history database", applicationID: Self.applicationID,
                                         migrator: Self.migrator, logger: logger)
        pool = opened.pool
        setAside = opened.setAside
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                PRAGMA application_id = \(applicationID);
                CREATE TABLE target(id INTEGER PRIMARY KEY, node TEXT NOT NULL, ip TEXT NOT NULL, path TEXT NOT NULL,
                                    family TEXT NOT NULL, protocol TEXT NOT NULL, UNIQUE(node, ip, path, protocol));
                -- t: milliseconds since 1970; rtt: nanoseconds, NULL for a failure (error says why).
                CREATE TABLE sample(t INTEGER NOT NULL, target INTEGER NOT NULL, rtt INTEGER, error TEXT);
                CREATE INDEX sample_by_time ON sample(t);
                CREATE TABLE rollup(level INTEGER NOT NULL, t INTEGER NOT NULL, target INTEGER NOT NULL,
                                    count INTEGER NOT NULL, failures INTEGER NOT NULL,
                                    min INTEGER, p10 INTEGER, p50 INTEGER, p90 INTEGER, p99 INTEGER, max INTEGER,
                                    PRIMARY KEY(level, t, target)) WITHOUT ROWID;
                -- Rollup watermarks: everything before them is consolidated.
                CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    // MARK: Writing

    /// One transaction per batch: after a crash a batch is there entirely or not at all.
    public func append(_ samples: [ProbeSample]) async throws {
        guard !samples.isEmpty else { return }
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO sample(t, target, rtt, error) VALUES (?, ?, ?, ?)")
            for s in samples {
                let id = try self.targetID(s.target, db)
                try insert.execute(arguments: [Self.milliseconds(s.time), id, s.rttNanoseconds, s.error])
            }
        }
    }

    private func targetID(_ target: HistoryTarget, _ db: Database) throws -> Int64 {
        if let id = targetIDs.withLock({ $0[target] }) { return id }
        try db.execute(sql: "INSERT OR IGNORE INTO target(node, ip, path, family, protocol) VALUES (?, ?, ?, ?, ?)",
                       arguments: [target.node, target.ip, target.path, target.family, target.protocol])
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM target WHERE node = ? AND ip = ? AND path = ? AND protocol = ?",
                                          arguments: [target.node, target.ip, target.path, target.protocol]) else {
            throw HistoryError("history target row vanished while writing")
        }
        targetIDs.withLock { $0[target] = id }
        return id
    }

    // MARK: Maintenance

    /// Consolidates every complete minute and hour into rollups (from the raw samples, so their
    /// quantiles are exact), drops what is older than its retention, then enforces the size bound.
    public func maintain(now: Date) async throws {
        let nowMs = Self.milliseconds(now)
        try await pool.write { db in
            for level in RollupLevel.allCases { try self.consolidate(level, nowMs: nowMs, db) }
            try db.execute(sql: "DELETE FROM sample WHERE t < ?", arguments: [nowMs - self.retention.raw.milliseconds])
            try db.execute(sql: "DELETE FROM rollup WHERE level = ? AND t < ?",
                           arguments: [RollupLevel.minute.rawValue, nowMs - self.retention.minutes.milliseconds])
            try db.execute(sql: "DELETE FROM rollup WHERE level = ? AND t < ?",
                           arguments: [RollupLevel.hour.rawValue, nowMs - self.retention.hours.milliseconds])
        }
        try await enforceSizeBound()
    }

    func watermark(_ level: RollupLevel, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: ["rolled-\(level.rawValue)"])
    }

    private func consolidate(_ level: RollupLevel, nowMs: Int64, _ db: Database) throws {
        let period = level.rawValue
        let end = nowMs / period * period
        let oldestKept = (nowMs - retention.raw.milliseconds) / period * period
        var start: Int64
        if let mark = try watermark(level, db) {
            start = max(mark, oldestKept)
        } else if let first = try Int64.fetchOne(db, sql: "SELECT min(t) FROM sample") {
            start = first / period * period
        } else {
            start = end
        }
        guard end > start else { return }
        let rows = try Row.fetchCursor(db, sql: "SELECT target, t, rtt FROM sample WHERE t >= ? AND t < ? ORDER BY target, t",
                                       arguments: [start, end])
        let upsert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO rollup(level, t, target, count, failures, min, p10, p50, p90, p99, max)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var current: (target: Int64, bucket: Int64)?
        var acc = WindowAccumulator()
        func flush() throws {
            guard let c = current else { return }
            let q = acc.quantiles
            try upsert.execute(arguments: [period, c.bucket, c.target, acc.count, acc.failures, acc.min, q.p10, q.p50,
                                           q.p90, q.p99, acc.max])
        }
        while let row = try rows.next() {
            let target: Int64 = row[0], t: Int64 = row[1], rtt: Int64? = row[2]
            let bucket = t / period * period
            if current?.target != target || current?.bucket != bucket {
                try flush()
                current = (target, bucket)
                acc = WindowAccumulator()
            }
            acc.add(rtt: rtt)
        }
        try flush()
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: ["rolled-\(period)", end])
    }

    /// Bytes the database's live pages take (free pages are given back by incremental vacuum).
    public func usedBytes() async throws -> Int64 {
        try await pool.read { db in
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return (pages - free) * size
        }
    }

    /// Over the bound, the oldest tenth of raw samples goes first, then of minute and hour
    /// rollups: the bound wins over completeness, and the newest data survives.
    private func enforceSizeBound() async throws {
        var rounds = 0
        while try await usedBytes() > retention.maxBytes, rounds < 200 {
            rounds += 1
            let deleted = try await pool.write { db -> Bool in
                if try self.deleteOldestTenth(db, table: "sample", filter: "") { return true }
                for level in RollupLevel.allCases {
                    if try self.deleteOldestTenth(db, table: "rollup", filter: "level = \(level.rawValue)") { return true }
                }
                return false
            }
            guard deleted else { break }
        }
        if rounds > 0 {
            // The freed pages leave the file only once the WAL is checkpointed.
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA incremental_vacuum")
                _ = try db.checkpoint(.truncate)
            }
        }
    }

    private func deleteOldestTenth(_ db: Database, table: String, filter: String) throws -> Bool {
        let whereFilter = filter.isEmpty ? "" : "WHERE \(filter)"
        let andFilter = filter.isEmpty ? "" : "AND \(filter)"
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) \(whereFilter)") ?? 0
        guard count > 0 else { return false }
        guard let cut = try Int64.fetchOne(db, sql: "SELECT t FROM \(table) \(whereFilter) ORDER BY t LIMIT 1 OFFSET ?",
                                           arguments: [count / 10]) else { return false }
        try db.execute(sql: "DELETE FROM \(table) WHERE t <= ? \(andFilter)", arguments: [cut])
        return true
    }

    // MARK: Reading (used by HistoryQuery)

    func targets() async throws -> [Int64: HistoryTarget] {
        try await pool.read { db in
            var out: [Int64: HistoryTarget] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, node, ip, path, family, protocol FROM target") {
                out[row[0]] = HistoryTarget(node: row[1], ip: row[2], path: row[3], family: row[4], protocol: row[5])
            }
            return out
        }
    }

    /// Raw successes and failures in [from, to), per target id, in time order.
    func rawSamples(from: Int64, to: Int64, targets: Set<Int64>) async throws -> [Int64: [(t: Int64, rtt: Int64?)]] {
        try await pool.read { db in
            var out: [Int64: [(t: Int64, rtt: Int64?)]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT target, t, rtt FROM sample WHERE t >= ? AND t < ? ORDER BY t",
                                           arguments: [from, to])
            while let row = try rows.next() {
                let target: Int64 = row[0]
                guard targets.contains(target) else { continue }
                out[target, default: []].append((row[1], row[2]))
            }
            return out
        }
    }

    func rollups(_ level: RollupLevel, from: Int64, to: Int64, targets: Set<Int64>) async throws -> [Int64: [(t: Int64, row: RollupRow)]] {
        try await pool.read { db in
            var out: [Int64: [(t: Int64, row: RollupRow)]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT target, t, count, failures, min, p10, p50, p90, p99, max FROM rollup
                WHERE level = ? AND t >= ? AND t < ? ORDER BY t
                """, arguments: [level.rawValue, from, to])
            while let row = try rows.next() {
                let target: Int64 = row[0]
                guard targets.contains(target) else { continue }
                out[target, default: []].append((row[1], RollupRow(count: row[2], failures: row[3], min: row[4], p10: row[5],
                                                                    p50: row[6], p90: row[7], p99: row[8], max: row[9])))
            }
            return out
        }
    }

    func watermark(_ level: RollupLevel) async throws -> Int64? {
        try await pool.read { db in try self.watermark(level, db) }
    }
}

extension Duration {
    /// Whole milliseconds (the unit of the store's time columns).
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
