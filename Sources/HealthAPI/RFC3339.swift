import Foundation

/// RFC 3339 timestamps in UTC with second precision, as the upstream API shows them.
public enum RFC3339 {
    /// Go's RFC3339Nano (trailing zeros of the fraction dropped), as hubble and event streams show times.
    public static func nanoString(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let nanos = Int(((date.timeIntervalSince1970 - seconds) * 1e9).rounded(.down))
        var fraction = String(format: "%09d", min(nanos, 999_999_999))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let base = string(date)
        return fraction.isEmpty ? base : base.dropLast() + ".\(fraction)Z"
    }

    public static func string(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
                      Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
    }
}
