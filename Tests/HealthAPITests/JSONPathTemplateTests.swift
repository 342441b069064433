import Testing
@testable import HealthAPI

private let probed = "2025-02-18T11:56:50Z"

/// Two nodes as a kind cluster's control plane sees them: the worker's host ICMP fails, it has an
/// IPv6 secondary host address, and its endpoint was only probed over HTTP.
private let status = HealthStatusResponse(
    timestamp: "2025-02-18T11:56:00Z", probeInterval: "1m36.566274746s",
    local: SelfStatus(name: "kind-kind/kind-control-plane"),
    nodes: [
        Fixture.node("kind-kind/kind-control-plane",
                     host: Fixture.path("172.18.0.2", icmp: Fixture.ok(197_325, probed: probed),
                                        http: Fixture.ok(1_299_813, probed: probed)),
                     endpoint: Fixture.path("10.244.0.7", icmp: Fixture.ok(95_000, probed: probed),
                                            http: Fixture.ok(745_874, probed: probed))),
        Fixture.node("kind-kind/kind-worker",
                     host: Fixture.path("172.18.0.3", icmp: Fixture.failed("Connection timed out", probed: probed),
                                        http: Fixture.ok(2_000_000, probed: probed)),
                     hostSecondaries: [Fixture.path("fc00:c111::3", icmp: Fixture.ok(300_000, probed: probed), http: nil)],
                     endpoint: Fixture.path("10.244.1.51", icmp: nil, http: Fixture.ok(745_874, probed: probed))),
    ])

private let cp = "kind-kind/kind-control-plane"
private let worker = "kind-kind/kind-worker"

struct JSONPathTemplateTests {
    static let cases: [(template: String, expected: String)] = [
        // Fields, JSON key names, bracket keys, indices and slices.
        ("{.nodes[*].name}", "\(cp) \(worker)"),
        ("{.local.name}", cp),
        ("{['local']['name']}", cp),
        ("{$.probeInterval}", "1m36.566274746s"),
        ("{.nodes[0].host.primary-address.ip}", "172.18.0.2"),
        ("{.nodes[-1].name}", worker),
        ("{.nodes[-2].name}", cp),
        ("{.nodes[0:1].name}", cp),
        ("{.nodes[1:].name}", worker),
        ("{.nodes[::2].name}", cp),
        ("{.nodes[0,1].health-endpoint.primary-address.ip}", "10.244.0.7 10.244.1.51"),
        ("{.nodes[0].host.primary-address.icmp.latency}", "197325"),
        // Text, quoted literals with Go escapes, and the one-space separator between results.
        ("{range .nodes[*]}{.name}{\"\\t\"}{.host.primary-address.ip}{\"\\n\"}{end}",
         "\(cp)\t172.18.0.2\n\(worker)\t172.18.0.3\n"),
        ("ip={.nodes[1].host.primary-address.ip}, rtt {'\\u00b5s'} {\"it's\"} {'it\\'s'}",
         "ip=172.18.0.3, rtt µs it's it's"),
        // Nested ranges, an empty range, and text after {end}.
        ("{range .nodes[*]}{.name}:{range .host.secondary-addresses[*]}{\" \"}{.ip}{end};{end}",
         "\(cp):;\(worker): fc00:c111::3;"),
        ("{range .nodes[0].host.secondary-addresses[*]}{.ip}{end}done", "done"),
        // Filters: strings, numbers, existence; the filter selects, the path continues.
        ("{.nodes[?(@.name==\"kind-kind/kind-worker\")].host.primary-address.icmp.status}", "Connection timed out"),
        ("{.nodes[?(@.name != 'kind-kind/kind-worker')].name}", cp),
        ("{.nodes[?(@.name<\"kind-kind/kind-w\")].name}", cp),
        ("{.nodes[?(@.host.primary-address.http.latency>1500000)].name}", worker),
        ("{.nodes[?(@.host.primary-address.http.latency<=1299813)].name}", cp),
        ("{.nodes[?(@.host.primary-address.icmp.latency>=197325)].name}", cp),
        ("{.nodes[?(@.host.primary-address.icmp.latency==0)].name}", worker),
        ("{.nodes[?(@.host.secondary-addresses[0])].name}", worker),
        ("{.nodes[?(@.name==1)].name}", ""),
        ("{.nodes[?(@.name!=1)].name}", "\(cp) \(worker)"),
        // Recursive descent reaches every ip, in struct field (sorted JSON name) order.
        ("{..ip}", "10.244.0.7 10.244.0.7 172.18.0.2 10.244.1.51 10.244.1.51 172.18.0.3 fc00:c111::3"),
        ("{.nodes[1]..status}", "   Connection timed out "),
        // Go struct view: wildcards include zero fields; a nil pointer prints as <nil>.
        ("{.nodes[0].host.primary-address.icmp.*}", "2025-02-18T11:56:50Z 197325 "),
        ("{.nodes[1].endpoint.icmp}", "<nil>"),
        ("{.nodes[1].endpoint.icmp.latency}", ""),
        // Missing keys print nothing (cilium sets AllowMissingKeys).
        ("{.nodes[*].nope}", ""),
        ("{.local.name}{.missing.deeper}!", "\(cp)!"),
        // Containers print as compact Go JSON (omitempty applied).
        ("{.local}", "{\"name\":\"\(cp)\"}"),
        ("{.nodes[1].host.secondary-addresses}",
         "[{\"icmp\":{\"lastProbed\":\"\(probed)\",\"latency\":300000},\"ip\":\"fc00:c111::3\"}]"),
        ("{.nodes[0].host.secondary-addresses}", "[]"),
        // Literals.
        ("{.local.name} {true} {-3} {1.5} {1000000.0}", "\(cp) true -3 1.5 1e+06"),
        ("", ""),
        ("plain text", "plain text"),
    ]

    @Test(arguments: cases)
    func renders(_ c: (template: String, expected: String)) throws {
        #expect(try JSONPathTemplate(c.template).render(status) == c.expected, "\(c.template)")
    }

    static let errors: [(template: String, message: String, offset: Int?)] = [
        ("{.nodes[*].name", "unclosed action", 15),
        ("{.nodes[x]}", "invalid array index x", 7),
        ("{.nodes[\"name\"]}", "invalid array index \"name\"", 7),
        ("{.nodes[1:-]}", "array index - is not a number", 7),
        ("{.nodes[0}", "unterminated array", 7),
        ("{.nodes[?(@.name==\"a\"}", "unterminated filter", 7),
        ("{.nodes[?(@.name==\"a\")}", "unclosed array expect ]", 7),
        ("{%}", "unrecognized character in action: U+0025 '%'", 1),
        ("{.nodes[?(@.name=~\"x\")].name}", "unrecognized character in action: U+007E '~'", 7),
        ("{\"abc}", "unterminated quoted string", 1),
        ("{\"\\q\"}", "unquote string \"\\q\" error invalid syntax", 1),
        ("{....name}", "invalid multiple recursive descent", 3),
        ("{-}", "cannot parse number -", 1),
        ("{end}", "not in range, nothing to end", 0),
        ("{.name}{foo}", "unrecognized identifier foo", 7),
        // Execution errors carry no position.
        ("{.nodes[2].name}", "array index out of bounds: index 2, length 2", nil),
        ("{.nodes[1:5].name}", "array index out of bounds: index 4, length 2", nil),
        ("{.nodes[1:0].name}", "starting index 1 is greater than ending index 0", nil),
        ("{.nodes[0:2:0].name}", "step must be > 0", nil),
        ("{.local[0]}", "struct is not array or slice", nil),
        ("{.nodes[?(@.name===\"x\")]}", "unrecognized filter operator ===", nil),
        ("{.nodes[?(@.host..ip==\"x\")]}", "can only compare one element at a time", nil),
    ]

    @Test(arguments: errors)
    func rejects(_ c: (template: String, message: String, offset: Int?)) {
        #expect(throws: JSONPathTemplate.Error(c.message, at: c.offset), "\(c.template)") {
            try JSONPathTemplate(c.template).render(status)
        }
    }

    @Test func indexOnEmptyListIsAnErrorAsUpstream() throws {
        let empty = HealthStatusResponse(timestamp: probed, probeInterval: nil, local: nil, nodes: [])
        #expect(throws: JSONPathTemplate.Error("array index out of bounds: index 0, length 0")) {
            try JSONPathTemplate("{.nodes[0].name}").render(empty)
        }
        #expect(try JSONPathTemplate("{.nodes[*].name}{.local.name}{.local}").render(empty) == "<nil>")
    }

    @Test func healthResponseFields() throws {
        let health = HealthResponse(
            cilium: AgentStatusResponse(cilium: ComponentStatus(state: "Ok", msg: "OK")),
            uptime: "3h2m1.5s", systemLoad: LoadResponse(last1min: "0.52", last5min: "0.40", last15min: "0.31"))
        let template = try JSONPathTemplate("{.uptime}{\"\\n\"}{.system-load.*}{\"\\n\"}{.cilium.cilium.state}")
        #expect(try template.render(health) == "3h2m1.5s\n0.31 0.52 0.40\nOk")
    }
}
