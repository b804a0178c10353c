// swift-tools-version: 6.1
import PackageDescription

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
        .target(name: "ProxyEngine", dependencies: ["MusterBase", "CProxyEngine"]),
        .target(
            name: "Registry",
            dependencies: [
                "MusterBase",
                "CZooKeeper",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Balancer",
            dependencies: [
                "MusterBase",
                "Registry",
                "ProxyEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "BalancerCLI",
            dependencies: [
                "SystemLimits",
                "MusterBase",
                "Balancer",
                "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ServerAgent",
            dependencies: [
                "MusterBase",
                "Registry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ServerAgentCLI",
            dependencies: [
                "ServerAgent",
                "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "MusterACL",
            dependencies: [
                "MusterBase",
                "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ChatProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ChatServer",
            dependencies: [
                "SystemLimits",
                "MusterBase",
                "ChatProtocol",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What chat-bench measures with, apart from its commands: the loopback-only target rule, the
        // clock and the latency summary (a library, so tests import it rather than the executable).
        .target(
            name: "ChatBenchCore",
            dependencies: [
                "MusterBase",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "ChatBench",
            dependencies: [
                "ChatBenchCore",
                "SystemLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Shared by the test targets: starts a throwaway ZooKeeper server on a free loopback port.
        .target(
            name: "TestSupport",
            dependencies: [
                "Registry",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "MusterBaseTests", dependencies: ["MusterBase"]),
        .testTarget(
            name: "RegistryTests",
            dependencies: [
                "Registry", "MusterBase", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ChatBenchTests", dependencies: ["ChatBenchCore"]),
        .testTarget(name: "ProxyEngineTests", dependencies: ["ProxyEngine", "CProxyEngine"]),
        .testTarget(
            name: "BalancerTests",
            dependencies: [
                "Balancer", "MusterBase", "Registry", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ServerAgentTests",
            dependencies: [
                "ServerAgent", "MusterBase", "Registry", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ChatServerTests",
            dependencies: [
                "ChatProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
