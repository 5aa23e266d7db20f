// swift-tools-version: 6.1
// Benchmarks of swift-clustaar beside the anchors users would otherwise pick (swift-nio's
// NIOWebSocket, Foundation's JSONSerialization), measured in the same run. A package of its own,
// so that the main package's build and tests never compile ordo-one/benchmark or its plugin.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between clones (CI uses its
// own folder). Read it from this manifest's location instead of hard-coding it.
let mainPackage = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Benchmarks/
    .deletingLastPathComponent()  // the main package's root
    .lastPathComponent

let benchmark: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
let benchmarkPlugin: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "swift-clustaar-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Suite 4's TLS rows: the swift-nio client and the echo server over TLS (BoringSSL).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Suites 1 and 2: WebSocket frame codec vs NIOWebSocket, masking vs memcpy.
        .executableTarget(
            name: "FrameCodec",
            dependencies: [
                benchmark,
                .product(name: "WebSocketProtocol", package: mainPackage),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Benchmarks/FrameCodec",
            plugins: [benchmarkPlugin]
        ),
        // Suite 3: Phoenix serializers and the inbound path to a typed BotReply vs the naive path.
        .executableTarget(
            name: "Serializers",
            dependencies: [
                benchmark,
                .product(name: "WebSocketProtocol", package: mainPackage),
                .product(name: "PhoenixProtocol", package: mainPackage),
                .product(name: "ClustaarModels", package: mainPackage),
            ],
            path: "Benchmarks/Serializers",
            plugins: [benchmarkPlugin]
        ),
        // Suite 4: loopback end to end (both transports and a swift-nio client against one
        // swift-nio echo server, over ws:// and over TLS), idle connections, 10,000 joined channels.
        .executableTarget(
            name: "Loopback",
            dependencies: [
                benchmark,
                .product(name: "TransportCore", package: mainPackage),
                .product(name: "TransportPOSIX", package: mainPackage),
                .product(name: "TransportLWS", package: mainPackage),
                .product(name: "PhoenixProtocol", package: mainPackage),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Benchmarks/Loopback",
            plugins: [benchmarkPlugin]
        ),
        // Suite 5: the whole path. ClustaarWebChatService + sendReply against the in-process
        // ClustaarSandbox, beside the transports alone (hand-written frames) and a Python client.
        .executableTarget(
            name: "WholePath",
            dependencies: [
                benchmark,
                .product(name: "ClustaarSDK", package: mainPackage),
                .product(name: "ClustaarModels", package: mainPackage),
                .product(name: "ClustaarSandbox", package: mainPackage),
                .product(name: "TransportCore", package: mainPackage),
                .product(name: "TransportPOSIX", package: mainPackage),
                .product(name: "TransportLWS", package: mainPackage),
            ],
            path: "Benchmarks/WholePath",
            plugins: [benchmarkPlugin]
        ),
    ]
)
