import Foundation
import HTTPSupport

/// Reads a node agent's drop stream (`GET /v1/monitor/drops` on its cilium.sock).
public enum AgentMonitorClient {
    /// One line of the stream.
    public enum Event: Sendable, Equatable {
        case drop(DropRecord)
        /// The agent had to discard this many drops for this reader (it read too slowly).
        case lost(Int)
    }

    /// The agent sends at least an empty line every 5 s; longer silence means it is hung.
    public static let idleTimeout: Duration = .seconds(15)

    /// Every drop the node's datapath raises from when the stream is connected (`fromStart`: first
    /// the latest ones it kept) until the consumer stops or the agent goes away, which ends the
    /// stream with an error. Lost-drop notices are left out (see `events`).
    public static func drops(socketPath: String, fromStart: Bool = false) -> AsyncThrowingStream<DropRecord, Error> {
        let events = events(socketPath: socketPath, fromStart: fromStart)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: DropRecord.self)
        let task = Task {
            do {
                for try await case .drop(let record) in events { continuation.yield(record) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Drops and lost-drop notices.
    public static func events(socketPath: String, fromStart: Bool = false) -> AsyncThrowingStream<Event, Error> {
        let lines = APIClient(endpoint: .unix(path: socketPath), timeout: .seconds(10))
            .lines("/v1/monitor/drops?from-start=\(fromStart)", idleTimeout: idleTimeout)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Event.self)
        let task = Task {
            do {
                for try await line in lines where !line.isEmpty {
                    continuation.yield(try decode(line))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    static func decode(_ line: String) throws -> Event {
        let data = Data(line.utf8)
        if let record = try? JSONDecoder().decode(DropRecord.self, from: data) { return .drop(record) }
        if let lost = try? JSONDecoder().decode(MonitorStream.Lost.self, from: data) { return .lost(lost.lost) }
        throw AgentError("unexpected line in the drop stream: \(line.prefix(200))")
    }
}
