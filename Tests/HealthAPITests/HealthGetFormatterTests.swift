import Testing
@testable import HealthAPI

struct HealthGetFormatterTests {
    @Test func getOutput() {
        let response = HealthResponse(
            cilium: AgentStatusResponse(cilium: ComponentStatus(state: "Ok", msg: "1.17.0 (v1.17.0)"),
                                        cluster: .init(ciliumHealth: ComponentStatus(state: "Ok"), nodes: nil, self_: nil)),
            uptime: "3h2m1.5s",
            systemLoad: LoadResponse(last1min: "0.52", last5min: "0.41", last15min: "0.30"))
        #expect(HealthGetFormatter.formatUnaligned(response) == """
            Daemon uptime:\t3h2m1.5s
            Node load:\t0.52 0.41 0.30
            Cilium:\tOk   1.17.0 (v1.17.0)
            NodeMonitor:\tDisabled
            Cilium health daemon:\tOk\t
            Proxy Status:\tNo managed proxy redirect

            """)
        // Column 0 spans all lines (21+3 = 24); only the health line has column 1 (2+3 = 5).
        #expect(HealthGetFormatter.format(response) ==
            cell("Daemon uptime:", 24) + "3h2m1.5s\n"
            + cell("Node load:", 24) + "0.52 0.41 0.30\n"
            + cell("Cilium:", 24) + "Ok   1.17.0 (v1.17.0)\n"
            + cell("NodeMonitor:", 24) + "Disabled\n"
            + cell("Cilium health daemon:", 24) + "Ok   \n"
            + cell("Proxy Status:", 24) + "No managed proxy redirect\n")
    }
}
