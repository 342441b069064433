import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /metrics` in the Prometheus text format; gauges are refreshed from the live status first.
public enum MetricsRoutes {
    public static func router(prober: HealthProber) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            prober.metrics.refresh(from: await prober.wideStatus())
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: prober.metrics.exposition())))
        }
        return router
    }
}
