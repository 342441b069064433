import Foundation
import NIOCore
import NIOPosix

/// Forwards every connection accepted on an inherited listening socket to `target`, byte for
/// byte (TLS passes through untouched). Runs inside the control plane's namespace while its
/// socket lives in the host's, which is how kubectl on the host reaches an apiserver that only
/// exists on the cluster bridge.
public struct TCPForwarder: Sendable {
    public let listenFD: Int32
    public let targetHost: String
    public let targetPort: Int

    public init(listenFD: Int32, targetHost: String, targetPort: Int) {
        self.listenFD = listenFD
        self.targetHost = targetHost
        self.targetPort = targetPort
    }

    /// Serves until the process is stopped.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let host = targetHost, port = targetPort
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connectTimeout(.seconds(5))
                    .connect(host: host, port: port)
                    .flatMapThrowing { outbound in
                        // Both channels are on this event loop; reading starts only once they are spliced.
                        let (a, b) = GlueHandler.pair()
                        try inbound.pipeline.syncOperations.addHandler(a)
                        try outbound.pipeline.syncOperations.addHandler(b)
                        try inbound.syncOptions?.setOption(.autoRead, value: true)
                    }
                    .flatMapErrorThrowing { error in
                        inbound.close(promise: nil)
                        throw error
                    }
            }
            .withBoundSocket(listenFD).get()
        try await server.closeFuture.get()
    }
}

/// One half of a pair that splices two channels: reads on one side are written to the other,
/// reading pauses while the peer is not writable, and a close on either side closes both.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair() -> (GlueHandler, GlueHandler) {
        let a = GlueHandler(), b = GlueHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerClose() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.partnerClose() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
