import Foundation
import HTTPSupport
import HealthAPI
import Hummingbird

/// The health REST API served on health.sock (base path /v1beta).
public enum HealthAPIRoutes {
    public static func router(prober: HealthProber, agent: APIClient, startedAt: ContinuousClock.Instant) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1beta/healthz") { _, _ -> Response in
            do {
                let agentStatus = try await agent.json(.GET, "/v1/healthz", as: AgentStatusResponse.self)
                let uptime = goDurationString(nanoseconds: (ContinuousClock.now - startedAt).nanoseconds)
                return JSONResponse.make(HealthResponse(cilium: agentStatus, uptime: uptime, systemLoad: SystemLoad.read()))
            } catch {
                var text = "\(error)"
                if case .unix(let path) = agent.endpoint, text.contains(path) { text += "\nIs the agent running?" }
                return JSONResponse.error(text, status: .internalServerError)
            }
        }
        router.get("/v1beta/status") { _, _ in
            JSONResponse.make(await prober.status())
        }
        router.get("/v1beta/status/wide") { _, _ in
            JSONResponse.make(await prober.wideStatus())
        }
        router.put("/v1beta/status/probe") { _, _ in
            JSONResponse.make(await prober.probeNow())
        }
        return router
    }
}
