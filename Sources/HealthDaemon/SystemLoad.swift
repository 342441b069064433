import Foundation
import HealthAPI

/// Load averages from /proc/loadavg, formatted with two decimals as upstream does.
enum SystemLoad {
    static func read() -> LoadResponse? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let parts = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard parts.count == 3 else { return nil }
        let f = { (v: Double) in String(format: "%.2f", v) }
        return LoadResponse(last1min: f(parts[0]), last5min: f(parts[1]), last15min: f(parts[2]))
    }
}
