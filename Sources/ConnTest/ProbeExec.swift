import Foundation

/// Outcome of one probe command.
public struct ProbeExecResult: Sendable, Equatable {
    public var exitCode: Int32
    public var output: String
    /// The command exceeded timeoutSeconds (Kubernetes counts this as a failure).
    public var timedOut: Bool

    public init(exitCode: Int32, output: String, timedOut: Bool = false) {
        self.exitCode = exitCode
        self.output = output
        self.timedOut = timedOut
    }

    public var succeeded: Bool { exitCode == 0 && !timedOut }
}

/// Runs a probe command inside a container with the given timeout. The local
/// implementation is `LocalCommandExec`; the namespace runner wraps it.
public typealias ProbeExec = @Sendable (_ command: [String], _ timeout: Duration) async -> ProbeExecResult

/// Guards against exec functions that ignore their timeout or cancellation:
/// the caller gets a result after at most `timeout + grace`, whatever the exec does.
enum BoundedExec {
    static let grace: Duration = .seconds(1)

    static func run(_ exec: @escaping ProbeExec, _ command: [String], timeout: Duration) async -> ProbeExecResult {
        let gate = ResumeOnce<ProbeExecResult>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ProbeExecResult, Never>) in
                let work = Task { gate.resume(with: await exec(command, timeout)) }
                let timer = Task {
                    try? await Task.sleep(for: timeout + grace)
                    gate.resume(with: ProbeExecResult(exitCode: -1, output: "probe exec did not return within \(timeout + grace)", timedOut: true))
                }
                gate.install(continuation) {
                    work.cancel()
                    timer.cancel()
                }
            }
        } onCancel: {
            gate.resume(with: ProbeExecResult(exitCode: -1, output: "cancelled", timedOut: false))
        }
    }
}

/// A continuation resumed exactly once by whichever racer finishes first; a result
/// arriving before the continuation is installed is kept and delivered on install.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var done = false
    private var cleanup: (@Sendable () -> Void)?

    func install(_ c: CheckedContinuation<T, Never>, cleanup: @escaping @Sendable () -> Void) {
        lock.lock()
        if let value = pending, !done {
            done = true
            lock.unlock()
            c.resume(returning: value)
            cleanup()
            return
        }
        if done { lock.unlock(); cleanup(); return }
        continuation = c
        self.cleanup = cleanup
        lock.unlock()
    }

    func resume(with value: T) {
        lock.lock()
        guard !done else { lock.unlock(); return }
        guard let c = continuation else {
            if pending == nil { pending = value }
            lock.unlock()
            return
        }
        done = true
        continuation = nil
        let cleanup = self.cleanup
        self.cleanup = nil
        lock.unlock()
        c.resume(returning: value)
        cleanup?()
    }
}
