import HTTPSupport
import Hummingbird
import Logging

/// The tiny HTTP server other nodes probe: `GET /hello` → 200 with an empty body, anything else 404.
public enum HelloResponder {
    public static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/hello") { _, _ in Response(status: .ok) }
        return router
    }

    /// One server per address, so IPv4 and IPv6 never fight over the same port (cilium#41402).
    public static func applications(addresses: [String], port: Int, limits: HTTPServerLimits = .standard,
                                    logger: Logger) -> [any ApplicationProtocol] {
        addresses.map { address in
            Application(router: router(), server: limits.server, configuration: .init(address: .hostname(address, port: port)),
                        logger: logger)
        }
    }
}
