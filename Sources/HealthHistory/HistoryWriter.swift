import Foundation
import Logging
import Synchronization

/// The prober's recorder: `record` only queues (a lock and an append), and `run` writes the queue
/// to the store in one transaction per `flushEvery`, off the probe path, and maintains the store
/// every `maintainEvery`. A `kill -9` loses at most the queued batch.
public final class HistoryWriter: ProbeRecorder {
    public let store: HistoryStore
    private let queue = Mutex<[ProbeSample]>([])
    private let dropped = Mutex<Int>(0)
    private let now: @Sendable () -> Date
    private let logger: Logger
    /// Queued samples beyond this (a stalled disk) are dropped, oldest first, and counted.
    public static let maxQueued = 200_000

    public init(store: HistoryStore, now: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.store = store
        self.now = now
        self.logger = logger
    }

    public func record(_ result: ProbeResult) {
        let samples = result.samples
        let overflow = queue.withLock { q -> Int in
            q.append(contentsOf: samples)
            let extra = q.count - Self.maxQueued
            if extra > 0 { q.removeFirst(extra) }
            return max(0, extra)
        }
        if overflow > 0 { dropped.withLock { $0 += overflow } }
    }

    /// Writes what is queued now; on failure the batch is kept for the next attempt.
    public func flush() async {
        let batch = queue.withLock { q -> [ProbeSample] in
            defer { q.removeAll(keepingCapacity: true) }
            return q
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.append(batch)
        } catch {
            logger.warning("cannot write probe history, will retry", metadata: ["error": "\(error)", "samples": "\(batch.count)"])
            queue.withLock { $0.insert(contentsOf: batch, at: 0) }
        }
        let lost = dropped.withLock { d -> Int in defer { d = 0 }; return d }
        if lost > 0 { logger.warning("probe history queue overflowed", metadata: ["dropped-samples": "\(lost)"]) }
    }

    public func maintain() async {
        do { try await store.maintain(now: now()) } catch {
            logger.warning("probe history maintenance failed", metadata: ["error": "\(error)"])
        }
    }

    /// Until cancelled; the last batch is written on the way out.
    public func run(flushEvery: Duration = .seconds(1), maintainEvery: Duration = .seconds(60)) async {
        await maintain()
        var lastMaintenance = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: flushEvery)
            await flush()
            if ContinuousClock.now - lastMaintenance >= maintainEvery {
                await maintain()
                lastMaintenance = .now
            }
        }
        await flush()
    }
}
