import HTTPSupport
import HealthAPI
import Hummingbird

/// The agent's REST API on cilium.sock (base path /v1): the part the health daemon consumes, the
/// policy datapath's status and switches, and the drop-event stream.
enum AgentAPIRoutes {
    /// `selfName` is this node's full name (`<cluster>/<node>`), which must be among `nodes`' answer.
    /// `policy` is nil on a cluster without a control plane (no policy role); `drops` always streams.
    static func router(nodes: any ClusterNodeList, selfName: String, tracker: NodeDiffTracker,
                       policy: PolicyDatapath? = nil, drops: DropBroadcast = DropBroadcast()) -> Router<BasicRequestContext> {
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
        router.get("/v1/monitor/drops") { request, _ -> Response in
            let raw = request.uri.queryParameters.get("from-start") ?? "false"
            guard let replay = Bool(raw) else {
                return JSONResponse.error("invalid from-start '\(raw)': must be true or false", status: .badRequest)
            }
            return MonitorStream.response(drops, replay: replay)
        }
        let noPolicy = "this node has no policy datapath: the cluster runs without a Kubernetes control plane"
        router.get("/v1/policy") { _, _ -> Response in
            guard let policy else { return JSONResponse.error(noPolicy, status: .notFound) }
            return JSONResponse.make(policy.status)
        }
        router.post("/v1/policy/detach") { _, _ -> Response in
            guard let policy else { return JSONResponse.error(noPolicy, status: .notFound) }
            do {
                try policy.detach()
            } catch {
                return JSONResponse.error("cannot detach the policy programs: \(error)", status: .internalServerError)
            }
            return JSONResponse.make(policy.status)
        }
        router.post("/v1/policy/attach") { _, _ -> Response in
            guard let policy else { return JSONResponse.error(noPolicy, status: .notFound) }
            policy.resume()
            return JSONResponse.make(policy.status)
        }
        return router
    }
}
