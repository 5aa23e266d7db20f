// swift-tools-version: 6.1
// Swift 6 language mode (the default for tools 6.x): complete strict concurrency checking.
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOWebSocket", package: "swift-nio"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "swift-clustaar",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "ClustaarSDK", targets: ["ClustaarSDK"]),
        .library(name: "ClustaarModels", targets: ["ClustaarModels"]),
        .library(name: "PhoenixProtocol", targets: ["PhoenixProtocol"]),
        .library(name: "PhoenixClient", targets: ["PhoenixClient"]),
        .library(name: "TransportCore", targets: ["TransportCore"]),
        .library(name: "TransportPOSIX", targets: ["TransportPOSIX"]),
        .library(name: "TransportLWS", targets: ["TransportLWS"]),
        .library(name: "ClustaarTestSupport", targets: ["ClustaarTestSupport"]),
        .library(name: "ClustaarSandbox", targets: ["ClustaarSandbox"]),
        .executable(name: "clustaar-chat", targets: ["clustaar-chat"]),
        .executable(name: "clustaar-sandbox", targets: ["clustaar-sandbox"]),
        .executable(name: "phx-client", targets: ["phx-client"]),
    ],
    dependencies: [
        // SHA-1 for Sec-WebSocket-Accept. 3.12.3 over 4.5.2: its cold build measured 102 s vs 134 s here.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // The sandbox (its library, executable and tests) and the test support's FaultProxy use swift-nio.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Pure layers: they import nothing of ours.
        .target(name: "ClustaarModels"),
        .target(name: "PhoenixProtocol"),
        .target(name: "TransportCore"),

        // Transports import TransportCore only.
        .systemLibrary(
            name: "CLibWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]
        ),
        .target(
            name: "CLWSShim",
            dependencies: ["CLibWebSockets"],
            linkerSettings: [.linkedLibrary("crypto")]  // X509 error texts (libssl-dev comes with libwebsockets-dev)
        ),
        .target(
            name: "TransportLWS",
            dependencies: ["TransportCore", "TransportPOSIX", "CLWSShim", "CLibWebSockets", logging]
        ),
        .target(
            name: "TransportPOSIX",
            dependencies: ["TransportCore", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The generic Phoenix client: the state machine driven over any transport.
        .target(name: "PhoenixClient", dependencies: ["PhoenixProtocol", "TransportCore", logging]),
        // The Clustaar layer on it.
        .target(
            name: "ClustaarSDK",
            dependencies: ["ClustaarModels", "PhoenixClient", "PhoenixProtocol", "TransportCore", logging]
        ),
        .target(
            name: "ClustaarTestSupport",
            dependencies: [
                "PhoenixProtocol", "TransportCore",
                // FaultProxy relays TCP on a NIO event loop.
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // The local Clustaar-compatible Phoenix server (tests, demo, standalone).
        .target(name: "ClustaarSandbox", dependencies: ["ClustaarModels", "PhoenixProtocol", "TransportCore"] + nio),

        // Executables link both transports.
        .executableTarget(
            name: "clustaar-chat",
            dependencies: ["ClustaarSDK", "ClustaarSandbox", "TransportPOSIX", "TransportLWS", argumentParser]
        ),
        .executableTarget(name: "clustaar-sandbox", dependencies: ["ClustaarSandbox", argumentParser]),
        // A terminal client for any Phoenix app.
        .executableTarget(
            name: "phx-client",
            dependencies: ["PhoenixClient", "TransportPOSIX", "TransportLWS", argumentParser]
        ),
        // `make soak`: a bounded run against the in-process sandbox that checks memory and fds.
        .executableTarget(
            name: "clustaar-soak",
            dependencies: [
                "ClustaarSDK", "ClustaarSandbox", "PhoenixProtocol", "TransportCore", "TransportPOSIX", "TransportLWS",
                argumentParser,
            ]
        ),
        // Drives the Autobahn fuzzingserver with a transport (a manual conformance check).
        .executableTarget(
            name: "ws-conformance-client",
            dependencies: ["TransportCore", "TransportPOSIX", "TransportLWS"]
        ),

        // The transport conformance suite, shared by every transport's tests (not a product).
        .target(name: "TransportConformance", dependencies: ["TransportCore", "ClustaarTestSupport"]),

        .testTarget(name: "ClustaarModelsTests", dependencies: ["ClustaarModels", "PhoenixProtocol"]),
        .testTarget(name: "PhoenixProtocolTests", dependencies: ["PhoenixProtocol", "ClustaarTestSupport"]),
        .testTarget(
            name: "PhoenixClientTests",
            dependencies: ["PhoenixClient", "ClustaarTestSupport", "ClustaarSandbox", "TransportPOSIX", "TransportLWS"]
        ),
        .testTarget(name: "TransportCoreTests", dependencies: ["TransportCore", "ClustaarTestSupport"]),
        .testTarget(
            name: "TransportLWSTests",
            dependencies: ["TransportLWS", "TransportCore", "TransportConformance"],
            exclude: ["Servers"]
        ),
        .testTarget(
            name: "TransportPOSIXTests",
            dependencies: ["TransportPOSIX", "TransportCore", "TransportConformance"]
        ),
        .testTarget(
            name: "ClustaarSDKTests",
            dependencies: [
                "ClustaarSDK", "PhoenixClient", "ClustaarTestSupport", "ClustaarSandbox", "TransportPOSIX",
                "TransportLWS",
            ]
        ),
        .testTarget(
            name: "ClustaarTestSupportTests",
            dependencies: ["ClustaarTestSupport", "PhoenixProtocol", "TransportCore", "TransportConformance"]
        ),
        .testTarget(
            name: "ClustaarSandboxTests",
            dependencies: ["ClustaarSandbox", "ClustaarModels", "ClustaarTestSupport", "PhoenixProtocol"] + nio
        ),
        // Fault injection, hostile servers, load, concurrency and log hygiene (part of `make test`).
        // TransportConformance starts the Python loopback server the hostile-server tests use.
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "ClustaarSDK", "ClustaarTestSupport", "ClustaarSandbox", "TransportPOSIX", "TransportLWS",
                "TransportCore", "PhoenixProtocol", "ClustaarModels", "TransportConformance", logging,
            ] + nio
        ),
    ]
)
