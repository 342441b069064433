import Foundation

/// How often a node probes every address, scaled with cluster size as upstream 1.17+ does:
/// `(10 s + ratio·100 s) · ln(1 + ipCount)`, or the base alone when there is nothing to probe.
public struct ProbeInterval: Sendable, Equatable {
    public let ratio: Double

    public struct InvalidRatio: Error, CustomStringConvertible {
        public let value: Double
        public var description: String { "connectivity-probe-frequency-ratio must be within [0, 1], got \(value)" }
    }

    public init(ratio: Double) throws {
        guard ratio >= 0, ratio <= 1, ratio.isFinite else { throw InvalidRatio(value: ratio) }
        self.ratio = ratio
    }

    public var baseSeconds: Double { 10 + ratio * 100 }

    public func seconds(ipCount: Int) -> Double {
        ipCount <= 0 ? baseSeconds : baseSeconds * log(1 + Double(ipCount))
    }

    public func duration(ipCount: Int) -> Duration {
        .nanoseconds(Int64((seconds(ipCount: ipCount) * 1e9).rounded()))
    }
}
