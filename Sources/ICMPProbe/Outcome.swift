/// Result of probing one address.
public enum ICMPOutcome: Sendable, Equatable {
    /// An echo was answered. `rttNanoseconds` is measured from the send time of the answered echo
    /// (not the first one); `attempt` is 1-based.
    case reply(rttNanoseconds: Int64, attempt: Int)
    /// No matching reply before the deadline (upstream status "Connection timed out").
    case timedOut
    /// Any other error, with Go-like text, e.g. "sendto: network is unreachable".
    case failed(String)
}

/// Errors thrown by `ICMPPinger.init`.
public struct ICMPPingerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let errno: Int32
    init(_ description: String, errno: Int32) {
        self.description = description
        self.errno = errno
    }
}

/// Address family of a probe.
public enum ICMPFamily: Sendable, Hashable {
    case v4, v6
}

/// Result of one sequenced burst of echoes.
public struct ICMPBurst: Sendable, Equatable {
    /// Upstream's view of the burst: the first answered echo's RTT, a timeout, or the error.
    public var outcome: ICMPOutcome
    /// Per echo, in send order: the reply's RTT in nanoseconds, nil if none came in time.
    public var rtts: [Int64?]

    public init(outcome: ICMPOutcome, rtts: [Int64?]) {
        self.outcome = outcome
        self.rtts = rtts
    }

    public var received: Int { rtts.count { $0 != nil } }
    /// Whether the echoes went out at all (an error such as an invalid address sends none).
    public var sent: Bool {
        if case .failed = outcome { return false }
        return true
    }
}
