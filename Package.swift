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
        .library(name: "WebSocketProtocol", targets: ["WebSocketProtocol"]),
        .library(name: "TransportPOSIX", targets: ["TransportPOSIX"]),
        .library(name: "TransportLWS", targets: ["TransportLWS"]),
        .library(name: "TLSEngine", targets: ["TLSEngine"]),
        .library(name: "ClustaarTestSupport", targets: ["ClustaarTestSupport"]),
        .library(name: "ClustaarSandbox", targets: ["ClustaarSandbox"]),
        // The transport author's kit: the conformance suite a third-party `Transport` runs from its tests.
        .library(name: "TransportConformance", targets: ["TransportConformance"]),
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
        // `make docs`: the DocC catalogs (swift package generate-documentation).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Pure layers: they import nothing of ours.
        .target(name: "ClustaarModels"),
        .target(name: "PhoenixProtocol"),
        .target(name: "TransportCore"),

        // RFC 6455 without I/O (handshake, frame codec, connection state machine): both transports use it.
        .target(
            name: "WebSocketProtocol",
            dependencies: ["TransportCore", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Transports import TransportCore and WebSocketProtocol, never each other.
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
            dependencies: ["TransportCore", "WebSocketProtocol", "CLWSShim", "CLibWebSockets", logging]
        ),
        .target(
            name: "TransportPOSIX",
            dependencies: ["TransportCore", "WebSocketProtocol", "TLSEngine"]
        ),

        // TLS as bytes in, bytes out over the system's OpenSSL (Linux; elsewhere the module is
        // empty and TransportPOSIX refuses wss://). COpenSSLShim only wraps OpenSSL's macros.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "COpenSSLShim", dependencies: [.target(name: "COpenSSL", condition: .when(platforms: [.linux]))]),
        .target(
            name: "TLSEngine",
            dependencies: [
                .target(name: "COpenSSL", condition: .when(platforms: [.linux])),
                .target(name: "COpenSSLShim", condition: .when(platforms: [.linux])),
            ]
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

        // The transport conformance suite, run by every transport's tests, ours and third parties'.
        // It ships its Python loopback server as a resource.
        .target(
            name: "TransportConformance",
            dependencies: ["TransportCore", "ClustaarTestSupport"],
            resources: [.copy("Servers/ws_test_server.py")]
        ),

        .testTarget(name: "ClustaarModelsTests", dependencies: ["ClustaarModels", "PhoenixProtocol"]),
        .testTarget(name: "PhoenixProtocolTests", dependencies: ["PhoenixProtocol", "ClustaarTestSupport"]),
        .testTarget(
            name: "PhoenixClientTests",
            dependencies: ["PhoenixClient", "ClustaarTestSupport", "ClustaarSandbox", "TransportPOSIX", "TransportLWS"]
        ),
        .testTarget(name: "TransportCoreTests", dependencies: ["TransportCore", "ClustaarTestSupport"]),
        .testTarget(name: "TLSEngineTests", dependencies: ["TLSEngine", "TransportConformance"]),
        .testTarget(
            name: "TransportLWSTests",
            // ClustaarSDK: the service over LWSTransport against the TLS servers (LWSServiceTLSTests).
            dependencies: ["TransportLWS", "TransportCore", "TransportConformance", "ClustaarSDK"],
            exclude: ["Servers"]
        ),
        .testTarget(name: "WebSocketProtocolTests", dependencies: ["WebSocketProtocol", "TransportCore"]),
        .testTarget(
            name: "TransportPOSIXTests",
            dependencies: ["TransportPOSIX", "WebSocketProtocol", "TransportCore", "TransportConformance"]
        ),
        .testTarget(
            name: "ClustaarSDKTests",
            dependencies: [
                "ClustaarSDK", "PhoenixClient", "ClustaarTestSupport", "ClustaarSandbox", "TransportPOSIX",
                "TransportLWS", "TransportConformance",
            ]
        ),
        .testTarget(
            name: "ClustaarTestSupportTests",
            dependencies: ["ClustaarTestSupport", "PhoenixProtocol", "TransportCore", "TransportConformance"]
        ),
        .testTarget(
            name: "ClustaarSandboxTests",
            dependencies: ["ClustaarSandbox", "ClustaarModels", "ClustaarTestSupport", "PhoenixProtocol"] + nio + [
                .product(name: "NIOEmbedded", package: "swift-nio")
            ]
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
