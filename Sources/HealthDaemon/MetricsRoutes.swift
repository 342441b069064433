import Foundation
import HTTPTypes
import HealthHistory
import Hummingbird
import NIOCore

/// `GET /metrics` in the Prometheus text format; gauges are refreshed from the live status first.
public enum MetricsRoutes {
    public static func router(prober: HealthProber, history: HistoryStore? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let wide = await prober.wideStatus()
            prober.metrics.refresh(from: wide)
            if let history, let recent = try? await history.recent(HistoryMetrics.window, now: Date()) {
                prober.metrics.history.refresh(local: await prober.localNodeName, recent: recent)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: prober.metrics.exposition())))
        }
        return router
    }
}
