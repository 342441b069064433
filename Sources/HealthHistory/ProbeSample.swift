import Foundation
import HealthAPI

/// The seam between the prober and the history: called once per finished probe result, on the
/// probe path, so an implementation must only queue (never block on disk).
public protocol ProbeRecorder: Sendable {
    func record(_ result: ProbeResult)
}

/// One finished ICMP or HTTP probe of one address.
public struct ProbeResult: Sendable, Equatable {
    public var target: HistoryTarget
    public var time: Date
    /// Round-trip time of a success; nil for a failure.
    public var rttNanoseconds: Int64?
    /// The failure text (upstream's `status`); nil for a success.
    public var error: String?
    /// Echoes of this probe that went unanswered before its outcome (ICMP retries): each is a
    /// lost packet, so loss % counts echoes, not probes that finally failed.
    public var unanswered: Int

    public init(target: HistoryTarget, time: Date, rttNanoseconds: Int64?, error: String?, unanswered: Int = 0) {
        self.target = target
        self.time = time
        self.rttNanoseconds = rttNanoseconds
        self.error = error
        self.unanswered = max(0, unanswered)
    }

    /// What the store keeps: one failure per unanswered echo, then the outcome itself.
    public var samples: [ProbeSample] {
        let lost = ProbeSample(target: target, time: time, rttNanoseconds: nil, error: "no reply to echo (a retry was sent)")
        return Array(repeating: lost, count: unanswered)
            + [ProbeSample(target: target, time: time, rttNanoseconds: rttNanoseconds, error: rttNanoseconds == nil ? (error ?? "failed") : nil)]
    }
}

/// One stored sample: an RTT, or a failure with its text.
public struct ProbeSample: Sendable, Equatable {
    public var target: HistoryTarget
    public var time: Date
    public var rttNanoseconds: Int64?
    public var error: String?

    public init(target: HistoryTarget, time: Date, rttNanoseconds: Int64?, error: String? = nil) {
        self.target = target
        self.time = time
        self.rttNanoseconds = rttNanoseconds
        self.error = error
    }
}

/// A history failure worded for the person at the terminal.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// Whether the request was at fault (HTTP 400/404) rather than the store (500).
    public let kind: Kind

    public enum Kind: Sendable { case badRequest, notFound, store }

    public init(_ message: String, kind: Kind = .store) {
        description = message
        self.kind = kind
    }
}
