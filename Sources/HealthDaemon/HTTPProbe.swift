import Foundation
import HTTPSupport
import NIOCore
import NIOPosix

/// `GET http://<ip>:<port>/hello` on a fresh connection, success = 200. Latency is measured as curl's
/// `time_total` is: from the connect call (taken on the event loop, just before the socket's
/// connect) to the last byte of the response, so it is the network's and the responder's time, not
/// this client's. A raw NIO exchange without an HTTP client stack: the client overhead that made
/// upstream-style figures several times curl's (Goldpinger#83) stays out of the number. Failures
/// carry the text Go's http client would print, because users grep for those strings.
public final class HTTPProbe: Sendable {
    public let port: Int
    public let timeout: Duration
    /// An event loop of the probe's own: on the shared loops, the agent's own servers (the
    /// responder answering peers, the API) would delay the read that stops the clock.
    private let group: MultiThreadedEventLoopGroup

    public init(port: Int = 4240, timeout: Duration = .seconds(10)) {
        self.port = port
        self.timeout = timeout
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    public enum Outcome: Sendable, Equatable {
        case ok(latencyNanoseconds: Int64)
        case failed(String)
    }

    struct Reply: Sendable {
        var status: Int
        var reason: String
        var nanoseconds: Int64
    }

    struct DeadlineExceeded: Error {}
    struct EndOfFile: Error {}

    public func probe(_ ip: String) async -> Outcome {
        let dial = IPAddressText.hostPort(ip, port)
        let url = "http://\(dial)/hello"
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: ip, port: port)
        } catch {
            return .failed("Get \"\(url)\": dial tcp \(dial): invalid address")
        }
        let loop = group.next()
        let promise = loop.makePromise(of: Reply.self)
        let request = ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: \(dial)\r\nUser-Agent: cilium-health\r\nConnection: close\r\n\r\n")
        let limit = TimeAmount.nanoseconds(timeout.nanoseconds)
        let deadline = loop.scheduleTask(in: limit) { promise.fail(DeadlineExceeded()) }
        let connect = ClientBootstrap(group: loop)
            .connectTimeout(limit)
            // A TCP-level option: `.socketOption(.tcp_nodelay)` would be SOL_SOCKET 1, SO_DEBUG, which needs
            // CAP_NET_ADMIN (refused, as "permission denied", once a DaemonSet drops every capability but NET_RAW).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HelloExchange(request: request, promise: promise))
                }
            }
            .connect(to: address)
        connect.whenFailure { promise.fail($0) }
        connect.whenSuccess { channel in promise.futureResult.whenComplete { _ in channel.close(promise: nil) } }
        do {
            let reply = try await promise.futureResult.get()
            deadline.cancel()
            guard reply.status == 200 else {
                return .failed("unexpected status code: \(reply.status) \(reply.status) \(reply.reason)")
            }
            return .ok(latencyNanoseconds: max(1, reply.nanoseconds))
        } catch {
            deadline.cancel()
            return .failed("Get \"\(url)\": \(Self.goErrorText(error, dial: dial))")
        }
    }

    public func shutdown() async {
        try? await group.shutdownGracefully()
    }

    /// Maps NIO errors onto Go's wording (`dial tcp IP:PORT: connect: connection refused`, ...).
    static func goErrorText(_ error: any Error, dial: String) -> String {
        switch error {
        case is DeadlineExceeded: return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        case is EndOfFile: return "EOF"
        case let e as NIOConnectionError:
            if let first = e.connectionErrors.first { return goErrorText(first.error, dial: dial) }
            return "dial tcp \(dial): connect: connection timed out"
        case let e as IOError:
            return "dial tcp \(dial): connect: \(String(cString: strerror(e.errnoCode)).lowercased())"
        case ChannelError.connectTimeout(_): return "dial tcp \(dial): connect: connection timed out"
        case is ChannelError: return "EOF"
        default: return "\(error)"
        }
    }
}

/// One request, one response: timestamps the connect on the event loop, writes the request when
/// connected and completes with the status once the body (Content-Length, chunked or until close)
/// is in.
final class HelloExchange: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: ByteBuffer
    private let promise: EventLoopPromise<HTTPProbe.Reply>
    private var started: NIODeadline?
    private var received = ByteBuffer()
    private var done = false

    init(request: ByteBuffer, promise: EventLoopPromise<HTTPProbe.Reply>) {
        self.request = request
        self.promise = promise
    }

    func connect(context: ChannelHandlerContext, to address: SocketAddress, promise: EventLoopPromise<Void>?) {
        started = .now()
        context.connect(to: address, promise: promise)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        if let reply = Self.complete(received, atEOF: false) { finish(reply) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let reply = Self.complete(received, atEOF: true) { finish(reply) } else { fail(HTTPProbe.EndOfFile()) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func finish(_ head: (status: Int, reason: String)) {
        guard !done else { return }
        done = true
        let elapsed = started.map { NIODeadline.now() - $0 } ?? .zero
        promise.succeed(.init(status: head.status, reason: head.reason, nanoseconds: elapsed.nanoseconds))
    }

    private func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }

    /// The status line once the whole response is in, else nil.
    static func complete(_ buffer: ByteBuffer, atEOF: Bool) -> (status: Int, reason: String)? {
        let bytes = buffer.readableBytesView
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            return atEOF ? (0, "malformed HTTP response") : nil
        }
        let reason = statusLine.count > 2 ? String(statusLine[2]) : ""
        let body = bytes[end.upperBound...]
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        if chunked { return body.reversed().starts(with: "0\r\n\r\n".utf8.reversed()) || atEOF ? (status, reason) : nil }
        if let length { return body.count >= length || atEOF ? (status, reason) : nil }
        return atEOF ? (status, reason) : nil
    }
}
