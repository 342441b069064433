import HTTPSupport
import HealthAPI
import Hummingbird

/// The agent's REST API on cilium.sock (base path /v1): the part the health daemon consumes.
enum AgentAPIRoutes {
    /// `selfName` is this node's full name (`<cluster>/<node>`), which must be among `nodes`' answer.
    static func router(nodes: any ClusterNodeList, selfName: String, tracker: NodeDiffTracker) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/healthz") { _, _ in
            JSONResponse.make(AgentStatusResponse(cilium: ComponentStatus(state: "Ok", msg: "")))
        }
        router.get("/v1/cluster/nodes") { request, _ -> Response in
            let raw = request.uri.queryParameters.get("client-id") ?? "0"
            guard let clientID = Int64(raw), clientID >= 0 else {
                return JSONResponse.error("invalid client-id '\(raw)': must be a non-negative integer", status: .badRequest)
            }
            let current: [NodeElement]
            do {
                current = try await nodes.current()
            } catch {
                return JSONResponse.error("cannot list the cluster's nodes: \(error)", status: .internalServerError)
            }
            return JSONResponse.make(await tracker.diff(clientID: clientID, current: current, selfName: selfName))
        }
        return router
    }
}
