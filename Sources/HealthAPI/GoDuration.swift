// Go's time.Duration.String, which upstream uses for RTTs, uptimes and the probe interval.

/// Formats a nanosecond count exactly like Go's `time.Duration.String`:
/// `0s`, `1ns`, `197.325µs` (U+00B5), `1.299813ms`, `10ms`, `1m14s`, `3h2m1.5s`, `-1.5s`.
public func goDurationString(nanoseconds: Int64) -> String {
    if nanoseconds == 0 { return "0s" }
    // The magnitude as UInt64 so that Int64.min does not overflow.
    let magnitude = nanoseconds.magnitude
    let sign = nanoseconds < 0 ? "-" : ""

    if magnitude < 1_000_000_000 {
        // Sub-second values use the largest unit that keeps an integer part.
        if magnitude < 1_000 { return "\(sign)\(magnitude)ns" }
        if magnitude < 1_000_000 {
            return sign + fixedPoint(magnitude, fractionDigits: 3) + "µs"
        }
        return sign + fixedPoint(magnitude, fractionDigits: 6) + "ms"
    }

    var rest = magnitude
    var text = sign
    let hour: UInt64 = 3_600_000_000_000
    let minute: UInt64 = 60_000_000_000
    // Go always prints the smaller units once a larger one appears ("1h0m0s").
    if rest >= hour {
        text += "\(rest / hour)h"
        rest %= hour
        text += "\(rest / minute)m"
        rest %= minute
    } else if rest >= minute {
        text += "\(rest / minute)m"
        rest %= minute
    }
    return text + fixedPoint(rest, fractionDigits: 9) + "s"
}

/// Convenience for durations measured as `Double` seconds; rounds to the nearest nanosecond
/// and saturates at the Int64 range like a Go conversion of an in-range value would.
public func goDurationString(seconds: Double) -> String {
    let nanos = (seconds * 1e9).rounded()
    if nanos.isNaN { return "0s" }
    if nanos >= 9.223372036854775807e18 { return goDurationString(nanoseconds: .max) }
    if nanos <= -9.223372036854775808e18 { return goDurationString(nanoseconds: .min) }
    return goDurationString(nanoseconds: Int64(nanos))
}

/// `value / 10^fractionDigits` with trailing fractional zeros (and a bare '.') removed.
private func fixedPoint(_ value: UInt64, fractionDigits: Int) -> String {
    var divisor: UInt64 = 1
    for _ in 0..<fractionDigits { divisor *= 10 }
    let integer = value / divisor
    var fraction = value % divisor
    if fraction == 0 { return String(integer) }
    var digits = fractionDigits
    while fraction % 10 == 0 {
        fraction /= 10
        digits -= 1
    }
    let fractionText = String(fraction)
    let zeros = String(repeating: "0", count: digits - fractionText.count)
    return "\(integer).\(zeros)\(fractionText)"
}
