import Foundation
import GRDB
import Logging

/// Opening one of our SQLite files (the probe history, the run history): WAL mode, bounded busy
/// waits, the schema migrated; an existing file that is not SQLite, fails its integrity check or
/// belongs to another program (its application_id) is moved aside with its -wal/-shm, not reused.
enum SQLiteFile {
    static func open(_ path: String, kind: String, applicationID: Int32, migrator: DatabaseMigrator,
                     logger: Logger?) throws -> (pool: DatabasePool, setAside: (path: String, reason: String)?) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw HistoryError("\(kind) '\(path)' is a directory: give a file path", kind: .badRequest)
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw HistoryError("cannot create the directory of \(kind) '\(path)': \(error.localizedDescription)")
            }
        }
        var moved: (String, String)?
        if FileManager.default.fileExists(atPath: path), let problem = problem(with: path, applicationID: applicationID) {
            let aside = "\(path).\(problem.suffix)-\(Int(Date().timeIntervalSince1970))"
            for ext in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + ext) {
                guard rename(path + ext, aside + ext) == 0 else {
                    throw HistoryError("\(kind) '\(path)' is \(problem.reason), and moving it aside failed: \(String(cString: strerror(errno)))")
                }
            }
            logger?.warning("\(kind) was unusable and is set aside; starting a new one",
                            metadata: ["path": "\(path)", "reason": "\(problem.reason)", "moved-to": "\(aside)"])
            moved = (aside, problem.reason)
        }
        var config = Configuration()
        config.busyMode = .timeout(5)  // bounded: a stuck writer elsewhere fails us after 5 s
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in
                // Lets a size bound give pages back; in WAL mode it takes a VACUUM (instant on a new file).
                if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 {
                    try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                    try db.execute(sql: "VACUUM")
                }
            }
            return (pool, moved)
        } catch {
            throw HistoryError("cannot open \(kind) '\(path)': \(error)")
        }
    }

    /// Why an existing file cannot be used, or nil if it is one of ours (or empty).
    static func problem(with path: String, applicationID: Int32) -> (reason: String, suffix: String)? {
        do {
            // Read-write, so a WAL left by a killed writer is recovered rather than refused.
            let queue = try DatabaseQueue(path: path)
            return try queue.read { db -> (String, String)? in
                let check = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? ""
                guard check == "ok" else { return ("corrupt (\(check))", "corrupt") }
                let app = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                if app != applicationID, tables > 0 {
                    return ("not a nethealth database of this kind (application_id \(app), \(tables) schema objects)", "foreign")
                }
                return nil
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            return ("not an SQLite database", "corrupt")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            return ("corrupt (\(error.message ?? "malformed"))", "corrupt")
        } catch {
            return ("unreadable (\(error))", "corrupt")
        }
    }
}
