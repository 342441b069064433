import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// How long a connection to one of our HTTP servers may sit without a complete request, as Go's
/// http.Server ReadHeaderTimeout and IdleTimeout bound it. Without them a client that sends
/// `GET /hel` and nothing more holds a connection (and a file descriptor) forever.
public struct HTTPServerLimits: Sendable, Equatable {
    /// From accept to the end of the first request's head.
    public var readHeaderTimeout: Duration
    /// Between requests on a kept-alive connection (also bounds a later request's head).
    public var idleTimeout: Duration

    public init(readHeaderTimeout: Duration, idleTimeout: Duration) {
        self.readHeaderTimeout = readHeaderTimeout
        self.idleTimeout = idleTimeout
    }

    /// Every server of the project uses these unless told otherwise. Peers probe with a fresh
    /// connection and send the request at once, so 10 s is generous.
    public static let standard = HTTPServerLimits(readHeaderTimeout: .seconds(10), idleTimeout: .seconds(90))

    /// The HTTP/1 server for `Application(router:server:…)` with both bounds in force.
    public var server: HTTPServerBuilder {
        let header = TimeAmount.nanoseconds(readHeaderTimeout.nanoseconds)
        return .http1(configuration: .init(additionalChannelHandlers: [ReadHeaderTimeoutHandler(timeout: header)],
                                           idleTimeout: .nanoseconds(idleTimeout.nanoseconds)))
    }
}

/// Closes the connection unless the first request head is complete within `timeout`. The HTTP
/// decoder emits `.head` only once the whole head has arrived, so a client trickling header bytes
/// gains nothing. Later requests are bounded by Hummingbird's idle timeout.
final class ReadHeaderTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var headSeen = false

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headSeen, case .head = unwrapInboundIn(data) {
            headSeen = true
            disarm()
        }
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil, !headSeen else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
