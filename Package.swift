// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "nethealth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "agent", targets: ["AgentCLI"]),
        .executable(name: "cilium-health", targets: ["CiliumHealthCLI"]),
        .executable(name: "cilium-health-responder", targets: ["HealthResponderCLI"]),
        .executable(name: "icmp-bench", targets: ["ICMPBench"]),
        .executable(name: "history-bench", targets: ["HistoryBench"]),
        .executable(name: "conntest", targets: ["ConnTestCLI"]),
        .executable(name: "echo-server", targets: ["EchoServerCLI"]),
        .executable(name: "nfq-delay", targets: ["NFQDelayCLI"]),
        .executable(name: "fuzz-parsers", targets: ["FuzzParsers"]),
        .executable(name: "detection-sim", targets: ["DetectionSim"]),
        .executable(name: "health-scale-bench", targets: ["HealthScaleBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Wire models, status semantics and the upstream-compatible text/JSON formats.
        .target(name: "HealthAPI", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // Raw ICMP echo sockets (v4/v6) with id/sequence matching.
        .target(name: "ICMPProbe", swiftSettings: strict),
        // Small HTTP helpers shared by servers and clients (unix-socket clients, server bootstrap).
        .target(name: "HTTPSupport", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Probe history: the SQLite store (WAL, batched writes, rollups, retention), trend statistics, SVG charts.
        .target(name: "HealthHistory", dependencies: [
            "HealthAPI", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "HealthDaemon", dependencies: [
            "HealthAPI", "ICMPProbe", "HTTPSupport", "HealthHistory", "CLinuxIO",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // The Kubernetes API client: kubeconfig/in-cluster connections, TLS, typed errors, API objects.
        .target(name: "KubeClient", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        .target(name: "Agent", dependencies: [
            "HealthAPI", "HealthDaemon", "HTTPSupport", "KubeClient", "ConnTest", "Datapath",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // libnetfilter_queue, for the packet-delay program (the kernel has no netem).
        .systemLibrary(name: "CNetfilterQueue", pkgConfig: "libnetfilter_queue",
                       providers: [.apt(["libnetfilter-queue-dev"])]),
        // `nfq-delay`: holds NFQUEUE'd packets for `agent cluster fault --delay`, inside a node's namespace.
        .executableTarget(name: "NFQDelayCLI", dependencies: [
            "CNetfilterQueue", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        // The entry point shared by the CLIs (exit codes, error wording).
        .target(name: "CommandLineSupport", dependencies: [
            "HTTPSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "AgentCLI", dependencies: [
            "Agent", "HealthDaemon", "CommandLineSupport", "HTTPSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "CiliumHealthCLI", dependencies: [
            "HealthAPI", "HealthDaemon", "HealthHistory", "HTTPSupport", "CommandLineSupport", "Agent",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "HealthResponderCLI", dependencies: [
            "HealthDaemon", "HTTPSupport", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        .executableTarget(name: "ICMPBench", dependencies: [
            "ICMPProbe", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "bench/ICMPBench", swiftSettings: strict),
        // Synthetic probe history with an injected clock (bench/history.sh).
        .executableTarget(name: "HistoryBench", dependencies: [
            "HealthHistory", "HealthAPI", .product(name: "Logging", package: "swift-log"),
        ], path: "bench/HistoryBench", swiftSettings: strict),
        // libFuzzer target for the parsers of outside input (bench/fuzz.sh builds it with
        // -sanitize=fuzzer); a plain build replays saved inputs, e.g. bench/fuzz/regressions.
        .executableTarget(name: "FuzzParsers", dependencies: [
            "HealthAPI", "ConnTest", .product(name: "Yams", package: "Yams"),
        ], path: "bench/fuzz/FuzzParsers", swiftSettings: strict),
        // The connectivity-check workload model and its upstream-compatible YAML.
        .target(name: "ConnTest", dependencies: ["HealthAPI"], swiftSettings: strict),
        // conntest as a Kubernetes client: apply, wait, read verdicts from pod status and events.
        .target(name: "ConnTestKube", dependencies: ["ConnTest", "KubeClient"], swiftSettings: strict),
        // The workload made real on a local cluster: pods, cluster DNS, services, probes.
        .target(name: "ConnTestLocal", dependencies: ["Agent", "ConnTest", "Datapath"], swiftSettings: strict),
        .executableTarget(name: "ConnTestCLI", dependencies: [
            "ConnTest", "ConnTestKube", "ConnTestLocal", "Agent", "CommandLineSupport", "HealthAPI", "HealthHistory", "KubeClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        // The json-mock server the checks target.
        .target(name: "EchoServer", dependencies: [
            "HTTPSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .executableTarget(name: "EchoServerCLI", dependencies: [
            "EchoServer", "HTTPSupport", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .testTarget(name: "ConnTestTests", dependencies: [
            "ConnTest", "ConnTestCLI", .product(name: "Yams", package: "Yams"),
        ], resources: [.copy("Fixtures")], swiftSettings: strict),
        // libbpf 1.x from Debian's libbpf-dev (links -lbpf).
        .systemLibrary(name: "CLibBPF", path: "Sources/CLibBPF", providers: [.apt(["libbpf-dev"])]),
        // epoll, which Glibc's overlay does not export: the HTTP probe's reactor.
        .systemLibrary(name: "CLinuxIO", path: "Sources/CLinuxIO"),
        // Per-pod L3/L4 policy in eBPF (bpf/policy.bpf.c): loader, tc attach, policy maps, drop events.
        .target(name: "Datapath", dependencies: ["CLibBPF"], swiftSettings: strict),
        .testTarget(name: "DatapathTests", dependencies: ["Datapath"], swiftSettings: strict),
        // Agent for its process runner: the conformance tests run third-party validators (scripts/validate).
        .testTarget(name: "ConnTestRunTests", dependencies: ["ConnTest", "Agent"], exclude: ["Fixtures"],
                    swiftSettings: strict),
        // Raw sockets to 127.0.0.1 for the server tests (slow and partial clients).
        .target(name: "LoopbackClient", path: "Tests/LoopbackClient", swiftSettings: strict),
        .testTarget(name: "EchoServerTests", dependencies: [
            "EchoServer", "EchoServerCLI", "LoopbackClient", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], swiftSettings: strict),
        .testTarget(name: "ICMPProbeTests", dependencies: ["ICMPProbe", "ICMPBench"], swiftSettings: strict),
        .testTarget(name: "HealthAPITests", dependencies: ["HealthAPI"], swiftSettings: strict),
        .testTarget(name: "HealthHistoryTests", dependencies: ["HealthHistory", "HealthAPI", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        // The detection logic, loss/jitter and the HTTP parser on an injected clock, without sockets;
        // DetectionSim for its scenarios at small sizes; the status body of a real prober (its raw
        // sockets are opened, nothing is sent).
        .testTarget(name: "HealthDaemonTests", dependencies: [
            "HealthDaemon", "DetectionSim", "HealthAPI", "HTTPSupport", "ICMPProbe",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // One real prober against thousands of simulated targets (bench/scale.sh).
        .executableTarget(name: "HealthScaleBench", dependencies: [
            "HealthDaemon", "HealthAPI", "HTTPSupport", "ICMPProbe",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "bench/HealthScaleBench", swiftSettings: strict),
        // Discrete-event simulation of fast detection at 1000-10000 nodes (bench/detection.sh).
        .executableTarget(name: "DetectionSim", dependencies: [
            "HealthDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "HeapModule", package: "swift-collections"),
        ], path: "bench/DetectionSim", swiftSettings: strict),
        // Real local clusters; depends on the executables so `swift test` always builds what it spawns.
        .testTarget(name: "LocalClusterTests", dependencies: [
            "HealthAPI", "HTTPSupport", "HealthDaemon", "Agent", "AgentCLI", "CiliumHealthCLI", "HealthResponderCLI", "NFQDelayCLI",
            "ConnTest", "ConnTestLocal", "ConnTestCLI", "EchoServerCLI", "Datapath", "KubeClient", "FuzzParsers", "LoopbackClient",
            "HealthHistory",
        ], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: [
            "KubeClient", "ConnTestKube", "ConnTest",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: strict),
    ]
)
