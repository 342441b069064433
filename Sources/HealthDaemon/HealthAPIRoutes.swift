import Foundation
import HTTPSupport
import HealthAPI
import HealthHistory
import Hummingbird

/// The health REST API served on health.sock (base path /v1beta).
public enum HealthAPIRoutes {
    public static func router(prober: HealthProber, agent: APIClient, startedAt: ContinuousClock.Instant,
                              history: HistoryStore? = nil) -> Router<BasicRequestContext> {
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
        router.get("/v1beta/status") { _, _ -> Response in
            do { return JSONResponse.raw(try await prober.encodedStatus()) } catch {
                return JSONResponse.error("cannot encode response: \(error)", status: .internalServerError)
            }
        }
        router.get("/v1beta/status/wide") { _, _ in
            JSONResponse.make(await prober.wideStatus())
        }
        router.put("/v1beta/status/probe") { _, _ in
            JSONResponse.make(await prober.probeNow())
        }
        // Our addition: windows, loss and trends from the probe history (`cilium-health history`).
        router.get("/v1beta/history") { request, _ -> Response in
            guard let history else { return JSONResponse.error("this health daemon keeps no history", status: .notFound) }
            var parameters: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
            do {
                let query = try HistoryQuery(parameters: parameters)
                let source = await prober.localNodeName ?? ""
                return JSONResponse.make(try await history.history(query, source: source, now: Date()))
            } catch let error as HistoryError {
                let status: HTTPResponse.Status = switch error.kind {
                case .badRequest: .badRequest
                case .notFound: .notFound
                case .store: .internalServerError
                }
                return JSONResponse.error(error.description, status: status)
            } catch {
                return JSONResponse.error("\(error)", status: .internalServerError)
            }
        }
        return router
    }
}
