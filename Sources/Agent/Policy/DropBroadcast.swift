import Foundation

/// What a monitor reader receives: drops, and heartbeats while there are none (so a reader can
/// tell a quiet node from a hung agent, and the server notices a reader that went away).
enum MonitorMessage: Sendable {
    case drop(DropRecord)
    case heartbeat
}

/// Fan-out of the node's drop events to any number of readers. Each reader has its own bounded
/// buffer: a slow reader loses its oldest undelivered drops (counted per reader) and never slows
/// the ring-buffer consumer or the other readers. The latest `historyLimit` drops are kept for
/// readers that ask to start with them (`agent monitor --from-start`).
final class DropBroadcast: @unchecked Sendable {
    let bufferLimit: Int
    let historyLimit: Int

    private struct Reader {
        let continuation: AsyncStream<MonitorMessage>.Continuation
        var lost = 0
    }

    private let lock = NSLock()
    private var readers: [Int: Reader] = [:]
    private var history: [DropRecord] = []
    private var nextID = 0
    private var finished = false
    private var publishedCount = 0
    private var lostCount = 0
    private var heartbeatTask: Task<Void, Never>?

    init(bufferLimit: Int = 1024, historyLimit: Int = 1024, heartbeatEvery: Duration = .seconds(5)) {
        self.bufferLimit = bufferLimit
        self.historyLimit = historyLimit
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatEvery)
                self?.send(.heartbeat)
            }
        }
    }

    deinit { heartbeatTask?.cancel() }

    var stats: MonitorStats {
        lock.lock(); defer { lock.unlock() }
        return MonitorStats(readers: readers.count, published: publishedCount, lost: lostCount)
    }

    /// A new reader: every drop published from now on (after the kept ones, with `replay`).
    /// The stream ends when the reader stops iterating, or at `finish()`.
    func subscribe(replay: Bool = false) -> (id: Int, messages: AsyncStream<MonitorMessage>) {
        let (stream, continuation) = AsyncStream.makeStream(of: MonitorMessage.self,
                                                            bufferingPolicy: .bufferingNewest(bufferLimit))
        lock.lock()
        let id = nextID
        nextID += 1
        let done = finished
        if !done { readers[id] = Reader(continuation: continuation) }
        let backlog = replay ? history.suffix(bufferLimit) : []
        lock.unlock()
        for record in backlog { continuation.yield(.drop(record)) }
        if done { continuation.finish() }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return (id, stream)
    }

    /// Drops reader `id` lost so far.
    func lost(_ id: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        return readers[id]?.lost ?? 0
    }

    func publish(_ record: DropRecord) {
        lock.lock()
        publishedCount += 1
        history.append(record)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
        lock.unlock()
        send(.drop(record))
    }

    /// Ends every reader's stream; later readers get an empty one.
    func finish() {
        lock.lock()
        finished = true
        let all = readers.values.map(\.continuation)
        readers = [:]
        lock.unlock()
        heartbeatTask?.cancel()
        for c in all { c.finish() }
    }

    // Yields outside the lock: a finished stream's onTermination runs inside yield and takes it.
    private func send(_ message: MonitorMessage) {
        lock.lock()
        let targets = readers.map { ($0.key, $0.value.continuation) }
        lock.unlock()
        var losses: [Int] = []
        for (id, continuation) in targets {
            if case .dropped(let old) = continuation.yield(message), case .drop = old { losses.append(id) }
        }
        guard !losses.isEmpty else { return }
        lock.lock()
        for id in losses where readers[id] != nil {
            readers[id]?.lost += 1
            lostCount += 1
        }
        lock.unlock()
    }

    private func unsubscribe(_ id: Int) {
        lock.lock()
        readers[id] = nil
        lock.unlock()
    }
}

/// The drop stream's counters (in `GET /v1/policy`).
public struct MonitorStats: Codable, Sendable, Equatable {
    public var readers: Int
    public var published: Int
    /// Drops that some reader lost because its buffer was full.
    public var lost: Int
}
