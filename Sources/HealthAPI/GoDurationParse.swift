/// Durations as Go's time.ParseDuration reads them, for `--timeout` flags: `90s`, `2m`, `1m30s`,
/// `500ms`; a bare number is seconds. Positive and finite only. `days: true` also reads `d` (24 h),
/// which Go lacks but history ranges (`--since 7d`) want.
public enum GoDuration {
    public static func parse(_ text: String, days: Bool = false) -> Duration? {
        if let seconds = Double(text) { return milliseconds(seconds) }
        var total = 0.0
        var number = ""
        var sawUnit = false
        var rest = Substring(text)
        while let c = rest.first {
            if c.isNumber || c == "." {
                number.append(c)
                rest = rest.dropFirst()
                continue
            }
            let unit: Double
            if rest.hasPrefix("ms") { unit = 0.001; rest = rest.dropFirst(2) }
            else if c == "s" { unit = 1; rest = rest.dropFirst() }
            else if c == "m" { unit = 60; rest = rest.dropFirst() }
            else if c == "h" { unit = 3600; rest = rest.dropFirst() }
            else if days, c == "d" { unit = 86400; rest = rest.dropFirst() }
            else { return nil }
            guard let value = Double(number) else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty else { return nil }
        return milliseconds(total)
    }

    /// Go's limit is about 292 years (Int64 nanoseconds); beyond it ParseDuration fails, and so
    /// do we, instead of trapping on the conversion (found by bench/fuzz.sh).
    static let maxSeconds = Double(Int64.max) / 1e9

    private static func milliseconds(_ seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds > 0, seconds <= maxSeconds else { return nil }
        return .milliseconds(Int64(seconds * 1000))
    }
}
