/// The values that changed between the upstream CUE suite revisions whose dumps the shipped files
/// hold. connectivity-check.yaml and the Makefile variants are dumps of the current revision;
/// -netpol-only was assembled by hand (cilium#21415) from dumps of the v1.3.0-image revision.
public struct SuiteRevision: Sendable, Equatable {
    public var alpineCurl: String
    public var jsonMock: String
    /// Listen ports of host-network echo servers that differ from their declaration's, by name.
    public var hostNetworkPorts: [String: Int]

    public static let current = SuiteRevision(alpineCurl: Images.alpineCurl, jsonMock: Images.jsonMock, hostNetworkPorts: [:])

    /// json-mock and alpine-curl v1.3.0, host-network echo servers on 41000/41001.
    public static let v1_3_0 = SuiteRevision(
        alpineCurl: "quay.io/cilium/alpine-curl:v1.3.0@sha256:1d928912e5d9dc9994b038b5df7434790c4bb9bd64f60570d78c1dee13befc76",
        jsonMock: "quay.io/cilium/json-mock:v1.3.0@sha256:2729064827fa9dbfface8d3df424feb6c792a0ba07117b844349635c93c06d2b",
        hostNetworkPorts: ["echo-b-host": 41000, "echo-c-host": 41001])
}
