import Hummingbird

/// The json-mock behaviour the connectivity checks rely on: json-server serving
/// `default.json`, so `/public` and `/private` return JSON arrays and `/` answers 200.
public enum EchoRoutes {
    public static let publicBody = #"[{"id":1,"body":"public information"}]"#
    public static let privateBody = #"[{"id":1,"body":"private information"}]"#
    public static let indexBody = #"{"public":"/public","private":"/private"}"#

    /// Path to body; anything else is 404 (the router's default).
    public static let documents: [(path: String, body: String)] = [
        ("/", indexBody), ("/public", publicBody), ("/private", privateBody),
    ]

    public static func router<Context: RequestContext>(context: Context.Type = BasicRequestContext.self) -> Router<Context> {
        let router = Router(context: Context.self)
        for (path, body) in documents {
            let routePath = RouterPath(path)
            router.get(routePath) { _, _ in response(body, includeBody: true) }
            // curl -I and load balancers' health checks use HEAD: same status and headers, no body.
            router.head(routePath) { _, _ in response(body, includeBody: false) }
        }
        return router
    }

    static func response(_ body: String, includeBody: Bool) -> Response {
        let bytes = ByteBuffer(string: body)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers[.contentLength] = String(bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: includeBody ? ResponseBody(byteBuffer: bytes) : ResponseBody())
    }
}
