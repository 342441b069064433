import Logging

/// The node roles' reconcile loop: `body` every `period` (start to start, at least 50 ms apart) until
/// cancelled; a failure is logged once (not once a second) and its recovery once, so an apiserver
/// outage reads as two lines.
enum SyncLoop {
    static func run(_ role: String, every period: Duration, logger: Logger, _ body: () async throws -> Void) async {
        var failing: String?
        while !Task.isCancelled {
            // Start to start: a change is picked up within one period, however long a sync takes.
            let next = ContinuousClock.now + period
            do {
                try await body()
                if failing != nil { logger.info("\(role): recovered") }
                failing = nil
            } catch {
                let text = "\(error)"
                if failing != text { logger.warning("\(role): \(text)") }
                failing = text
            }
            try? await Task.sleep(until: max(next, .now + .milliseconds(50)), clock: .continuous)
        }
    }
}
