// swift-tools-version: 6.1
// Swift 6 language mode (the default for tools 6.x): complete strict concurrency checking.
import PackageDescription

let package = Package(
    name: "swift-clustaar",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "ClustaarSDK", targets: ["ClustaarSDK"]),
        .library(name: "ClustaarModels", targets: ["ClustaarModels"]),
        .library(name: "PhoenixProtocol", targets: ["PhoenixProtocol"]),
        .library(name: "TransportCore", targets: ["TransportCore"]),
        .library(name: "TransportPOSIX", targets: ["TransportPOSIX"]),
        .library(name: "TransportLWS", targets: ["TransportLWS"]),
        .library(name: "ClustaarTestSupport", targets: ["ClustaarTestSupport"]),
        .library(name: "ClustaarSandbox", targets: ["ClustaarSandbox"]),
        .executable(name: "clustaar-sandbox", targets: ["clustaar-sandbox"]),
    ],
    dependencies: [
        // Only the sandbox (its library, executable and tests) may use swift-nio.
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
        .target(name: "CLWSShim", dependencies: ["CLibWebSockets"]),
        .target(name: "TransportLWS", dependencies: ["TransportCore", "CLWSShim", "CLibWebSockets"]),
        .target(name: "TransportPOSIX", dependencies: ["TransportCore"]),

        // The one place that composes.
        .target(name: "ClustaarSDK", dependencies: ["ClustaarModels", "PhoenixProtocol", "TransportCore"]),
        .target(name: "ClustaarTestSupport", dependencies: ["PhoenixProtocol", "TransportCore"]),

        // The local Clustaar-compatible Phoenix server (tests, demo, standalone).
        .target(
            name: "ClustaarSandbox",
            dependencies: [
                "PhoenixProtocol",
                "TransportCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "clustaar-sandbox",
            dependencies: [
                "ClustaarSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "ClustaarModelsTests", dependencies: ["ClustaarModels"]),
        .testTarget(
            name: "PhoenixProtocolTests",
            dependencies: ["PhoenixProtocol", "ClustaarTestSupport"]
        ),
        .testTarget(name: "TransportCoreTests", dependencies: ["TransportCore", "ClustaarTestSupport"]),
        .testTarget(name: "TransportLWSTests", dependencies: ["TransportLWS", "TransportCore"]),
        .testTarget(name: "TransportPOSIXTests", dependencies: ["TransportPOSIX", "TransportCore"]),
        .testTarget(name: "ClustaarSDKTests", dependencies: ["ClustaarSDK", "ClustaarTestSupport"]),
        .testTarget(
            name: "ClustaarSandboxTests",
            dependencies: [
                "ClustaarSandbox",
                "ClustaarTestSupport",
                "PhoenixProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ClustaarTestSupportTests",
            dependencies: ["ClustaarTestSupport", "PhoenixProtocol", "TransportCore"]
        ),
    ]
)
