import Foundation

/// The last lines of a daemon's log, for the error that says why it did not start.
public enum LogTail {
    public static func lines(_ path: String, count: Int, separator: String, missing: String = "(no log)") -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return missing }
        let last = text.split(separator: "\n").suffix(count)
        return last.isEmpty ? missing : last.joined(separator: separator)
    }
}

/// `4.6s`: how long a step took, as `cluster up` reports it.
public func formatSeconds(_ d: Duration) -> String {
    String(format: "%.1fs", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
}
