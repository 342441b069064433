import Hummingbird
import Logging
import ServiceLifecycle

/// A server started in-process with `EchoServer.start`; stop it with `stop()`.
public struct RunningEchoServer: Sendable {
    /// The bound port (the real one when started with port 0).
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    /// Graceful shutdown: stop accepting and let in-flight requests finish;
    /// after `timeout` the server task is cancelled so the caller never hangs.
    public func stop(timeout: Duration = .seconds(10)) async {
        await group.triggerGracefulShutdown()
        let serverTask = task
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            serverTask.cancel()
        }
        _ = await serverTask.result
        watchdog.cancel()
    }
}

public struct EchoServerStartError: Error, CustomStringConvertible {
    public let description: String
}

extension EchoServer {
    /// Starts the server in a background task and returns once it is listening.
    /// No signal handlers are installed: the caller owns the lifecycle.
    public static func start(host: String = defaultHost, port: Int = 0, logger: Logger = Logger(label: "echo-server"),
                             timeout: Duration = .seconds(10)) async throws -> RunningEchoServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication(host: host, port: port, logger: logger) { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        // Ends the wait if the server neither starts nor fails (every wait has a bound).
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            continuation.finish()
        }
        defer { watchdog.cancel() }
        var iterator = ports.makeAsyncIterator()
        if let bound = await iterator.next() {
            return RunningEchoServer(port: bound, group: group, task: task)
        }
        task.cancel()
        if case .failure(let error) = await task.result { throw error }
        throw EchoServerStartError(description: "echo-server did not start on \(host):\(port) within \(timeout)")
    }
}
