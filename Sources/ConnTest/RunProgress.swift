/// Live counts while waiting for checks to settle.
public struct RunProgress: Sendable, Equatable {
    public var elapsedSeconds: Double
    public var total: Int
    public var ready: Int
    /// Hit a failure threshold or restarted.
    public var failing: Int
    /// Running, not yet Ready nor failing.
    public var waiting: Int
    public var pending: Int
    public var skipped: Int

    public init(elapsedSeconds: Double, total: Int, ready: Int, failing: Int, waiting: Int, pending: Int, skipped: Int) {
        self.elapsedSeconds = elapsedSeconds
        self.total = total
        self.ready = ready
        self.failing = failing
        self.waiting = waiting
        self.pending = pending
        self.skipped = skipped
    }
}
