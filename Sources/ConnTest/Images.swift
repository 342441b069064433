/// Container images used by the suite, pinned by digest as upstream does.
public enum Images {
    public static let alpineCurl =
        "quay.io/cilium/alpine-curl:v1.5.0@sha256:7b286939730d8af1149ef88dba15739d8330bb83d7d9853a23e5ab4043e2d33c"
    public static let jsonMock =
        "quay.io/cilium/json-mock:v1.3.2@sha256:bc6c46c74efadb135bc996c2467cece6989302371ef4e3f068361460abaf39be"
    public static let demoClient = "cilium/demo-client"
    /// Images of the pre-CUE hand-written IPv6 file.
    public static let legacyAlpineCurl = "docker.io/byrnedo/alpine-curl:0.1.8"
    public static let legacyJSONMock = "docker.io/cilium/json-mock:1.2"

    /// Replaces the registry/repository prefix, keeping the last path element
    /// (name, tag and digest): `quay.io/cilium/json-mock:v1@sha` -> `R/json-mock:v1@sha`.
    public static func rewrite(_ image: String, repository: String) -> String {
        let trimmedRepo = repository.hasSuffix("/") ? String(repository.dropLast()) : repository
        // The digest may contain no '/', but the tag part cannot either, so the
        // last '/' before any '@' or ':' marks the end of the prefix.
        let nameEnd = image.firstIndex(of: "@") ?? image.endIndex
        let head = image[..<nameEnd]
        let lastComponent: Substring
        if let slash = head.lastIndex(of: "/") {
            lastComponent = image[image.index(after: slash)...]
        } else {
            lastComponent = image[...]
        }
        return trimmedRepo + "/" + lastComponent
    }
}
