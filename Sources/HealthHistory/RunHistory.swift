import Foundation
import GRDB
import Logging

/// Every `conntest run`'s result, appended to one SQLite file, so a check's record across runs can
/// be listed (and, next, gated on). Same file rules as the probe history (`SQLiteFile`).
public final class RunHistory: Sendable {
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var result: String
        public var readySeconds: Double?
        public var restarts: Int
        public var drops: Int?
        /// How long the check's probes took to settle.
        public var durationSeconds: Double
        public var reason: String?

        public init(name: String, result: String, readySeconds: Double?, restarts: Int, drops: Int?, durationSeconds: Double,
                    reason: String?) {
            self.name = name
            self.result = result
            self.readySeconds = readySeconds
            self.restarts = restarts
            self.drops = drops
            self.durationSeconds = durationSeconds
            self.reason = reason
        }
    }

    public struct Run: Codable, Sendable, Equatable {
        public var id: Int64?
        public var started: String
        public var cluster: String
        public var exitCode: Int
        public var durationSeconds: Double
        public var checks: [Check]

        public init(id: Int64? = nil, started: String, cluster: String, exitCode: Int, durationSeconds: Double, checks: [Check]) {
            self.id = id
            self.started = started
            self.cluster = cluster
            self.exitCode = exitCode
            self.durationSeconds = durationSeconds
            self.checks = checks
        }

        public var passed: Int { checks.count { $0.result == "pass" } }
        public var failed: Int { checks.count { $0.result == "fail" } }
    }

    public let path: String
    public let setAside: (path: String, reason: String)?
    private let pool: DatabasePool
    /// "NHR1".
    static let applicationID: Int32 = 0x4E48_5231

    public init(path: String, logger: Logger? = nil) throws {
        self.path = path
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                PRAGMA application_id = \(Self.applicationID);
                CREATE TABLE run(id INTEGER PRIMARY KEY, started TEXT NOT NULL, cluster TEXT NOT NULL,
                                 exit_code INTEGER NOT NULL, duration REAL NOT NULL);
                CREATE TABLE check_result(run INTEGER NOT NULL REFERENCES run(id), name TEXT NOT NULL, result TEXT NOT NULL,
                                          ready REAL, restarts INTEGER NOT NULL, drops INTEGER, duration REAL NOT NULL, reason TEXT);
                CREATE INDEX check_by_name ON check_result(name, run);
                """)
        }
        let opened = try SQLiteFile.open(path, kind: "run history database", applicationID: Self.applicationID,
                                         migrator: migrator, logger: logger)
        pool = opened.pool
        setAside = opened.setAside
    }

    /// One transaction: a run is kept whole or not at all. Returns its id.
    @discardableResult
    public func append(_ run: Run) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO run(started, cluster, exit_code, duration) VALUES (?, ?, ?, ?)",
                           arguments: [run.started, run.cluster, run.exitCode, run.durationSeconds])
            let id = db.lastInsertedRowID
            for c in run.checks {
                try db.execute(sql: """
                    INSERT INTO check_result(run, name, result, ready, restarts, drops, duration, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, c.name, c.result, c.readySeconds, c.restarts, c.drops, c.durationSeconds, c.reason])
            }
            return id
        }
    }

    /// The last `limit` runs, oldest first; with `check`, only that check's row in each run that had it.
    public func runs(limit: Int = 20, check: String? = nil) throws -> [Run] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, started, cluster, exit_code, duration FROM run ORDER BY id DESC LIMIT ?",
                                        arguments: [limit])
            return try rows.reversed().compactMap { row -> Run? in
                let id: Int64 = row[0]
                var sql = "SELECT name, result, ready, restarts, drops, duration, reason FROM check_result WHERE run = ?"
                var arguments: StatementArguments = [id]
                if let check {
                    sql += " AND name = ?"
                    arguments += [check]
                }
                let checks = try Row.fetchAll(db, sql: sql + " ORDER BY rowid", arguments: arguments).map { c in
                    Check(name: c[0], result: c[1], readySeconds: c[2], restarts: c[3], drops: c[4], durationSeconds: c[5], reason: c[6])
                }
                if check != nil, checks.isEmpty { return nil }
                return Run(id: id, started: row[1], cluster: row[2], exitCode: row[3], durationSeconds: row[4], checks: checks)
            }
        }
    }
}
