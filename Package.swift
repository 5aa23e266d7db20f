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
    ],
    dependencies: [
        // SHA-1 for Sec-WebSocket-Accept. 3.12.3 over 4.5.2: its cold build measured 102 s vs 134 s here.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
            dependencies: [
                "TransportCore", "CLWSShim", "CLibWebSockets", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TransportPOSIX",
            dependencies: ["TransportCore", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The transport conformance suite, shared by every transport's tests (not a product).
        .target(name: "TransportConformance", dependencies: ["TransportCore", "ClustaarTestSupport"]),

        // The one place that composes.
        .target(name: "ClustaarSDK", dependencies: ["ClustaarModels", "PhoenixProtocol", "TransportCore"]),
        .target(name: "ClustaarTestSupport", dependencies: ["PhoenixProtocol", "TransportCore"]),

        .testTarget(name: "ClustaarModelsTests", dependencies: ["ClustaarModels"]),
        .testTarget(
            name: "PhoenixProtocolTests",
            dependencies: ["PhoenixProtocol", "ClustaarTestSupport"]
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
        .testTarget(name: "ClustaarSDKTests", dependencies: ["ClustaarSDK", "ClustaarTestSupport"]),
        .testTarget(
            name: "ClustaarTestSupportTests",
            dependencies: ["ClustaarTestSupport", "PhoenixProtocol", "TransportCore", "TransportConformance"]
        ),
    ]
)
