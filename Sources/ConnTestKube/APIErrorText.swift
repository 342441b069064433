import Foundation
import KubeClient

extension KubeAPIError {
    /// 403 from the authorizer (RBAC), as opposed to an admission plugin's 403 (a quota, Pod Security):
    /// the authorizer's Status message is `User "u" cannot <verb> resource "<r>" …`.
    public var isAuthorizationDenied: Bool { code == 403 && message.contains("User \"") && message.contains(" cannot ") }
    public var isUnauthorized: Bool { code == 401 }
}

/// Every API error of a run as one line for a person: what was refused, by whom, and the server's words.
public enum APIErrorText {
    public static func line(_ error: any Error) -> String {
        switch error {
        case let e as KubeAPIError where e.isUnauthorized:
            return "the API server rejected the credentials (401 Unauthorized) on \(e.method) \(e.path): "
                + "the token or client certificate is expired, revoked or not from this cluster"
        case let e as KubeAPIError where e.isAuthorizationDenied:
            return rbacLine(e)
        case let e as KubeAPIError:
            return e.description
        default:
            return "\(error)"
        }
    }

    /// `RBAC refused: create namespaces (cluster scope) for User "…": <message>`.
    static func rbacLine(_ e: KubeAPIError) -> String {
        let m = e.message
        guard let cannot = m.range(of: " cannot "), let resource = m.range(of: " resource \"", range: cannot.upperBound..<m.endIndex) else {
            return "RBAC refused \(e.method) \(e.path): \(m)"
        }
        let verb = m[cannot.upperBound..<resource.lowerBound]
        let name = m[resource.upperBound...].prefix { $0 != "\"" }
        var scope = ""
        if let group = m.range(of: " in API group \"") {
            let g = m[group.upperBound...].prefix { $0 != "\"" }
            if !g.isEmpty { scope = ".\(g)" }
        }
        let place = m.range(of: "in the namespace \"").map { " in namespace \(m[$0.upperBound...].prefix { $0 != "\"" })" }
            ?? (m.contains("at the cluster scope") ? " (cluster scope)" : "")
        return "RBAC refused: \(verb) \(name)\(scope)\(place): \(m)"
    }
}
