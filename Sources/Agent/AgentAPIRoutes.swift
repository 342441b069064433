import HTTPSupport
import HealthAPI
import Hummingbird

/// The agent's REST API on cilium.sock (base path /v1): the part the health daemon consumes.
enum AgentAPIRoutes {
    static func router(layout: StateLayout, nodeName: String, tracker: NodeDiffTracker) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/healthz") { _, _ in
            JSONResponse.make(AgentStatusResponse(cilium: ComponentStatus(state: "Ok", msg: "")))
        }
        router.get("/v1/cluster/nodes") { request, _ -> Response in
            let raw = request.uri.queryParameters.get("client-id") ?? "0"
            guard let clientID = Int64(raw), clientID >= 0 else {
                return JSONResponse.error("invalid client-id '\(raw)': must be a non-negative integer", status: .badRequest)
            }
            // Re-read the cluster file so nodes added or removed by `cluster up/down` show up as diffs.
            let spec: ClusterSpec
            do {
                spec = try ClusterSpec.load(layout.specPath)
            } catch {
                return JSONResponse.error("\(error)", status: .internalServerError)
            }
            guard let me = spec.node(named: nodeName) else {
                return JSONResponse.error("node \(nodeName) is not in cluster \(spec.name)", status: .internalServerError)
            }
            let status = await tracker.diff(clientID: clientID, current: spec.nodes.map(spec.element),
                                            selfName: spec.fullName(me))
            return JSONResponse.make(status)
        }
        return router
    }
}
