import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A suspicion to tell the other agents about: the suspect's name and where the others listen.
public struct Suspicion: Sendable, Equatable {
    public var peer: String
    public var recipients: [String]
}

/// Spreads suspicions between agents over UDP: one datagram per other agent, straight from the
/// agent whose watch probe failed, so every agent starts its own confirmation within one hop. A
/// datagram only makes the receiver probe the suspect itself (a lost one is covered by the full
/// sweep; a forged one costs one probe), so it needs no reliability or authentication.
public struct SuspicionGossip: Service {
    public static let defaultPort = 4241
    static let prefix = "nethealth suspect v1\n"
    /// Node names are DNS names (≤ 253 bytes) with a cluster prefix.
    static let maxDatagram = 512

    let bindAddress: String
    let port: Int
    let prober: HealthProber
    let logger: Logger

    public init(bindAddress: String, port: Int, prober: HealthProber, logger: Logger) {
        self.bindAddress = bindAddress
        self.port = port
        self.prober = prober
        self.logger = logger
    }

    public static func encode(_ peer: String) -> ByteBuffer { ByteBuffer(string: prefix + peer) }

    /// The suspect's name, or nil for anything that is not one of our datagrams.
    public static func decode(_ buffer: ByteBuffer) -> String? {
        guard buffer.readableBytes <= maxDatagram, let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
              text.hasPrefix(prefix) else { return nil }
        let name = String(text.dropFirst(prefix.count))
        return name.isEmpty || name.contains("\n") ? nil : name
    }

    public func run() async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: bindAddress, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let port = self.port
        try await channel.executeThenClose { inbound, outbound in
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await suspicion in prober.suspicions {
                        for ip in suspicion.recipients {
                            guard let to = try? SocketAddress(ipAddress: ip, port: port) else { continue }
                            try? await outbound.write(AddressedEnvelope(remoteAddress: to, data: Self.encode(suspicion.peer)))
                        }
                    }
                }
                group.addTask {
                    do {
                        for try await envelope in inbound {
                            guard let peer = Self.decode(envelope.data) else { continue }
                            await prober.suspicionHeard(peer)
                        }
                    } catch {
                        logger.warning("suspicion gossip stopped receiving", metadata: ["error": "\(error)"])
                    }
                }
                try? await gracefulShutdown()  // returns at shutdown, throws at cancellation
                group.cancelAll()
            }
        }
    }
}
