import Foundation

/// Routes SIGINT/SIGTERM (by default) to `handler` on a dispatch queue instead of the default
/// kill, for as long as the value lives. Unchecked: the sources are only held, never mutated.
public final class SignalHandlers: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(_ signals: [Int32] = [SIGINT, SIGTERM], handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            return source
        }
    }
}
