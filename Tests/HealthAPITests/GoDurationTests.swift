import Testing
@testable import HealthAPI

struct GoDurationTests {
    @Test(arguments: [
        (Int64(0), "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1_000, "1µs"),
        (1_100, "1.1µs"),
        (100_000, "100µs"),
        (197_325, "197.325µs"),
        (1_000_001, "1.000001ms"),
        (1_299_813, "1.299813ms"),
        (10_000_000, "10ms"),
        (1_000_000_000, "1s"),
        (1_500_000_000, "1.5s"),
        (60_000_000_000, "1m0s"),
        (74_000_000_000, "1m14s"),
        (96_566_274_746, "1m36.566274746s"),
        (485_000_000_000, "8m5s"),
        (3_600_000_000_000, "1h0m0s"),
        (10_921_500_000_000, "3h2m1.5s"),
        (1_000_000_001, "1.000000001s"),
        (-1, "-1ns"),
        (-1_500_000_000, "-1.5s"),
        (-197_325, "-197.325µs"),
        (Int64.max, "2562047h47m16.854775807s"),
        (Int64.min, "-2562047h47m16.854775808s"),
    ])
    func nanoseconds(_ value: Int64, _ expected: String) {
        #expect(goDurationString(nanoseconds: value) == expected)
    }

    @Test func microSignIsU00B5() {
        #expect(goDurationString(nanoseconds: 1_500).unicodeScalars.contains("\u{00B5}"))
    }

    @Test func seconds() {
        #expect(goDurationString(seconds: 0.5) == "500ms")
        #expect(goDurationString(seconds: 485) == "8m5s")
        #expect(goDurationString(seconds: 1e-9) == "1ns")
        #expect(goDurationString(seconds: 0.000197325) == "197.325µs")
        #expect(goDurationString(seconds: 96.566274746) == "1m36.566274746s")
        #expect(goDurationString(seconds: -2) == "-2s")
        #expect(goDurationString(seconds: 1e30) == "2562047h47m16.854775807s")
    }
}
