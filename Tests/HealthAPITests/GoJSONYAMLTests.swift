import Testing
import Yams
@testable import HealthAPI

private let probed = "2025-02-18T11:56:50Z"

/// Shaped like the 1.17 excerpt in spec §2 (issue #37141).
private let sample = HealthStatusResponse(
    timestamp: probed, probeInterval: "1m36.566274746s", local: SelfStatus(name: "kind-kind/kind-control-plane"),
    nodes: [
        Fixture.node("kind-kind/kind-worker",
                     host: Fixture.path("172.18.0.3", icmp: Fixture.failed("Connection timed out", probed: probed), http: nil),
                     endpoint: Fixture.path("10.244.1.51", icmp: nil, http: Fixture.ok(745_874, probed: probed))),
    ])

struct GoJSONTests {
    @Test func healthStatusResponse() throws {
        #expect(try GoJSON.marshalIndent(sample) == """
            {
              "local": {
                "name": "kind-kind/kind-control-plane"
              },
              "nodes": [
                {
                  "endpoint": {
                    "http": {
                      "lastProbed": "2025-02-18T11:56:50Z",
                      "latency": 745874
                    },
                    "ip": "10.244.1.51"
                  },
                  "health-endpoint": {
                    "primary-address": {
                      "http": {
                        "lastProbed": "2025-02-18T11:56:50Z",
                        "latency": 745874
                      },
                      "ip": "10.244.1.51"
                    },
                    "secondary-addresses": []
                  },
                  "host": {
                    "primary-address": {
                      "icmp": {
                        "lastProbed": "2025-02-18T11:56:50Z",
                        "status": "Connection timed out"
                      },
                      "ip": "172.18.0.3"
                    },
                    "secondary-addresses": []
                  },
                  "name": "kind-kind/kind-worker"
                }
              ],
              "probeInterval": "1m36.566274746s",
              "timestamp": "2025-02-18T11:56:50Z"
            }

            """)
    }

    @Test func emptyNodesStillEmitted() throws {
        let empty = HealthStatusResponse(timestamp: "", probeInterval: nil, local: nil, nodes: [])
        #expect(try GoJSON.marshalIndent(empty) == "{\n  \"nodes\": []\n}\n")
        #expect(try GoJSON.commandOutput(empty) == "{\n  \"nodes\": []\n}\n\n")
        #expect(try GoJSON.marshal(empty) == "{\"nodes\":[]}")
    }

    @Test func goStringEscaping() throws {
        let text = "a<b>&\"c\"\\/\u{2028}\u{2029}\n\t\r\u{08}\u{0C}\u{01}\u{7F}µ"
        #expect(GoJSON.quote(text) == #""a\u003cb\u003e\u0026\"c\"\\/\u2028\u2029\n\t\r\b\f\u0001\#u{7F}µ""#)
        #expect(try GoJSON.marshal(["k<": "v"]) == #"{"k\u003c":"v"}"#)
    }

    @Test func integersNestedOptionalsAndSortedKeys() throws {
        struct Sample: Encodable {
            var zeta: Int64 = .max
            var alpha: UInt64 = .max
            var mid: Int? = nil
            var nested: [String: [Int?]] = ["b": [1, nil], "a": []]
            var flag = true
            enum CodingKeys: String, CodingKey { case zeta, alpha, mid, nested, flag }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(zeta, forKey: .zeta)
                try c.encode(alpha, forKey: .alpha)
                try c.encode(mid, forKey: .mid)  // explicit null, like a Go nil pointer without omitempty
                try c.encode(nested, forKey: .nested)
                try c.encode(flag, forKey: .flag)
            }
        }
        #expect(try GoJSON.marshalIndent(Sample()) == """
            {
              "alpha": 18446744073709551615,
              "flag": true,
              "mid": null,
              "nested": {
                "a": [],
                "b": [
                  1,
                  null
                ]
              },
              "zeta": 9223372036854775807
            }

            """)
    }

    @Test func floatsLikeGo() throws {
        #expect(try GoJSON.goFloat(1.5) == "1.5")
        #expect(try GoJSON.goFloat(100) == "100")
        #expect(try GoJSON.goFloat(1e20) == "100000000000000000000")
        #expect(try GoJSON.goFloat(1e21) == "1e+21")
        #expect(try GoJSON.goFloat(0.000001) == "0.000001")
        #expect(try GoJSON.goFloat(1e-7) == "1e-7")
        #expect(try GoJSON.goFloat(-2.5e-10) == "-2.5e-10")
        #expect(throws: GoJSON.Error.self) { try GoJSON.goFloat(.nan) }
    }

    @Test func healthResponseKeys() throws {
        let response = HealthResponse(cilium: AgentStatusResponse(cilium: ComponentStatus(state: "Ok")), uptime: "3h2m1.5s",
                                      systemLoad: LoadResponse(last1min: "0.52", last5min: "0.41", last15min: "0.30"))
        #expect(try GoJSON.marshal(response)
            == #"{"cilium":{"cilium":{"state":"Ok"}},"system-load":{"last15min":"0.30","last1min":"0.52","last5min":"0.41"},"uptime":"3h2m1.5s"}"#)
    }
}

struct GoYAMLTests {
    @Test func healthStatusResponseLikeYAMLv3() throws {
        let expected = """
            local:
                name: kind-kind/kind-control-plane
            nodes:
                - endpoint:
                    http:
                        lastprobed: "2025-02-18T11:56:50Z"
                        latency: 745874
                        status: ""
                    icmp: null
                    ip: 10.244.1.51
                  healthendpoint:
                    primaryaddress:
                        http:
                            lastprobed: "2025-02-18T11:56:50Z"
                            latency: 745874
                            status: ""
                        icmp: null
                        ip: 10.244.1.51
                    secondaryaddresses: []
                  host:
                    primaryaddress:
                        http: null
                        icmp:
                            lastprobed: "2025-02-18T11:56:50Z"
                            latency: 0
                            status: Connection timed out
                        ip: 172.18.0.3
                    secondaryaddresses: []
                  name: kind-kind/kind-worker
            probeinterval: 1m36.566274746s
            timestamp: "2025-02-18T11:56:50Z"

            """
        let yaml = try GoYAML.marshal(sample)
        #expect(yaml == expected)
        #expect(try GoYAML.commandOutput(sample) == expected + "\n")
        // The document is valid YAML that Yams reads back.
        let parsed = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        #expect(parsed["probeinterval"] as? String == "1m36.566274746s")
        #expect(parsed["timestamp"] as? String == probed)
        #expect((parsed["nodes"] as? [Any])?.count == 1)
    }

    @Test func emptyResponsePrintsEveryField() throws {
        let empty = HealthStatusResponse(timestamp: "", probeInterval: nil, local: nil, nodes: [])
        #expect(try GoYAML.marshal(empty) == "local: null\nnodes: []\nprobeinterval: \"\"\ntimestamp: \"\"\n")
    }

    @Test func healthResponse() throws {
        let response = HealthResponse(cilium: AgentStatusResponse(cilium: ComponentStatus(state: "Ok")), uptime: "3h2m1.5s",
                                      systemLoad: LoadResponse(last1min: "0.52", last5min: "0.41", last15min: "0.30"))
        #expect(try GoYAML.marshal(response) == """
            cilium:
                cilium:
                    msg: ""
                    state: Ok
                cluster: null
            systemload:
                last15min: "0.30"
                last1min: "0.52"
                last5min: "0.41"
            uptime: 3h2m1.5s

            """)
    }

    @Test func scalarStyles() {
        let cases: [(String, String)] = [
            ("plain text", "plain text"),
            ("", "\"\""),
            ("null", "\"null\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("off", "\"off\""),
            ("0.52", "\"0.52\""),
            ("42", "\"42\""),
            ("0x1F", "\"0x1F\""),
            ("1_000", "\"1_000\""),
            ("1:20", "\"1:20\""),
            ("2025-02-18", "\"2025-02-18\""),
            ("2025-02-18T11:56:50.5+01:00", "\"2025-02-18T11:56:50.5+01:00\""),
            ("10.244.1.51", "10.244.1.51"),
            ("1m36.566274746s", "1m36.566274746s"),
            ("fd00::1", "fd00::1"),
            ("fd00::", "'fd00::'"),
            ("Get \"http://10.10.4.184:4240/hello\": dial tcp 10.10.4.184:4240: connect: connection timed out",
             "'Get \"http://10.10.4.184:4240/hello\": dial tcp 10.10.4.184:4240: connect: connection timed out'"),
            ("- a", "'- a'"),
            ("#x", "'#x'"),
            ("a #b", "'a #b'"),
            (" lead", "' lead'"),
            ("it's: x", "'it''s: x'"),
            ("197.325µs", "197.325µs"),
            ("tab\there", "\"tab\\there\""),
        ]
        for (input, expected) in cases {
            #expect(GoYAML.scalarText(input, indent: 0) == expected, "\(input)")
        }
    }

    @Test func multiLineStringUsesLiteralBlock() throws {
        struct Doc: Encodable { var msg = "line one\nline two" }
        #expect(try GoYAML.marshal(Doc()) == "msg: |-\n    line one\n    line two\n")
    }
}
