// swift-tools-version: 6.1
import PackageDescription

// The products the targets use, each named once.
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioConcurrencyHelpers: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let inMemoryLogging: Target.Dependency = .product(name: "InMemoryLogging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let histogram: Target.Dependency = .product(name: "Histogram", package: "hdrhistogram-swift")
let subprocess: Target.Dependency = .product(name: "Subprocess", package: "swift-subprocess")
let systemPackage: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")

let package = Package(
    name: "Muster",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "Balancer", targets: ["Balancer"]),
        .library(name: "ServerAgent", targets: ["ServerAgent"]),
        .executable(name: "balancer", targets: ["BalancerCLI"]),
        .executable(name: "server-agent", targets: ["ServerAgentCLI"]),
        .executable(name: "chat-server", targets: ["ChatServer"]),
        .executable(name: "chat-bench", targets: ["ChatBench"]),
        .executable(name: "muster-acl", targets: ["MusterACL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
    ],
    targets: [
        // libzookeeper-mt (Debian: libzookeeper-mt-dev) has no pkg-config file; the module map links it.
        .systemLibrary(name: "CZooKeeper", path: "Sources/CZooKeeper"),
        // The open-files limit, raised the same way by every executable.
        .target(name: "SystemLimits"),
        // Value types and rules every other module shares; no dependencies.
        .target(name: "MusterBase"),
        // The proxy engine's data path (epoll workers), over a small C shim for epoll, accept4 and atomics.
        .target(name: "CProxyEngine"),
        // The PROXY protocol codec and the IP addresses it carries: pure, no dependencies, shared by
        // the engine and chat-server (which must not link the engine for it).
        .target(name: "ProxyProtocolCodec"),
        .target(name: "ProxyEngine", dependencies: ["MusterBase", "ProxyProtocolCodec", "CProxyEngine"]),
        .target(name: "Registry", dependencies: ["MusterBase", "CZooKeeper", logging, serviceLifecycle]),
        .target(
            name: "Balancer",
            dependencies: [
                "MusterBase", "Registry", "ProxyEngine", nioCore, nioPosix, nioHTTP1, nioConcurrencyHelpers, logging,
                metrics, prometheus, serviceLifecycle,
            ]
        ),
        // What the executables' command lines share: the duration flag, DurationSyntax through ArgumentParser.
        .target(name: "MusterCLI", dependencies: ["MusterBase", argumentParser]),
        .executableTarget(
            name: "BalancerCLI",
            dependencies: [
                "SystemLimits", "MusterBase", "MusterCLI", "Balancer", "Registry", argumentParser, logging, serviceLifecycle,
                unixSignals,
            ]
        ),
        .target(
            name: "ServerAgent",
            dependencies: [
                "MusterBase", "Registry", nioCore, nioPosix, logging, serviceLifecycle, subprocess, systemPackage,
                unixSignals,
            ]
        ),
        .executableTarget(
            name: "ServerAgentCLI",
            dependencies: ["ServerAgent", "MusterBase", "Registry", argumentParser, logging, serviceLifecycle]
        ),
        .executableTarget(name: "MusterACL", dependencies: ["MusterBase", "MusterCLI", "Registry", argumentParser, logging]),
        .target(
            name: "ChatProtocol",
            dependencies: ["MusterBase", "ProxyProtocolCodec", nioCore, nioConcurrencyHelpers, nioPosix, logging, serviceLifecycle]
        ),
        .executableTarget(
            name: "ChatServer",
            dependencies: [
                "SystemLimits", "MusterBase", "ChatProtocol", serviceLifecycle, nioCore, nioPosix, argumentParser,
                logging,
            ]
        ),
        // What chat-bench measures with, apart from its commands: the loopback-only target rule, the
        // clock and the latency summary (a library, so tests import it rather than the executable).
        .target(name: "ChatBenchCore", dependencies: ["MusterBase", nioCore, argumentParser, histogram]),
        .executableTarget(
            name: "ChatBench",
            dependencies: ["ChatBenchCore", "SystemLimits", nioCore, nioPosix, argumentParser, histogram]
        ),
        // Shared by the test targets: a throwaway ZooKeeper server on a free loopback port, the one test
        // backend, the one poller, free ports and the built binaries.
        .target(
            name: "TestSupport",
            dependencies: ["Registry", logging, nioCore, nioPosix, nioConcurrencyHelpers],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "MusterBaseTests", dependencies: ["MusterBase"]),
        // Registry, Balancer and ServerAgent each have a unit target apart from an integration target
        // (`…IntegrationTests`) that starts ZooKeeper, processes or listeners (docs/testing.md has the layout).
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "MusterBase"]),
        .testTarget(
            name: "RegistryIntegrationTests",
            dependencies: ["Registry", "MusterBase", "TestSupport", logging, inMemoryLogging, serviceLifecycle]
        ),
        .testTarget(name: "ChatBenchTests", dependencies: ["ChatBenchCore"]),
        .testTarget(name: "ProxyEngineTests", dependencies: ["ProxyEngine", "ProxyProtocolCodec", "CProxyEngine"]),
        .testTarget(name: "BalancerTests", dependencies: ["Balancer", "MusterBase", "Registry", "ProxyEngine", nioCore]),
        .testTarget(
            name: "BalancerIntegrationTests",
            dependencies: [
                "Balancer", "MusterBase", "Registry", "ProxyEngine", "TestSupport", nioCore, nioPosix,
                nioConcurrencyHelpers, logging, metrics,
            ]
        ),
        .testTarget(name: "ServerAgentTests", dependencies: ["ServerAgent", "MusterBase", "TestSupport", nioCore, nioPosix, logging]),
        .testTarget(
            name: "ServerAgentIntegrationTests",
            dependencies: [
                "ServerAgent", "MusterBase", "Registry", "TestSupport", nioCore, nioPosix, logging, serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "ChatServerTests",
            dependencies: ["ChatProtocol", "TestSupport", nioCore, nioConcurrencyHelpers, nioPosix, serviceLifecycle]
        ),
    ],
    swiftLanguageModes: [.v6]
)
