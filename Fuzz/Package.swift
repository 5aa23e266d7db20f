// swift-tools-version: 6.1
// libFuzzer targets of swift-clustaar (issue 9): every decoder that reads bytes from the network.
// A package of its own because its executables link libFuzzer's driver: inside the main package a
// plain `swift build` would fail to link them. Build and run them with `make fuzz` from the root:
// `swift build -c debug -Xswiftc -sanitize=fuzzer,address` (debug keeps `@testable import` open,
// which is how the targets reach the internal HTTP response parser and the package-level
// WebSocket connection state machine without widening their access).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between clones. Read it from
// this manifest's location instead of hard-coding it.
let mainPackage = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Fuzz/
    .deletingLastPathComponent()  // the main package's root
    .lastPathComponent

func product(_ name: String) -> Target.Dependency { .product(name: name, package: mainPackage) }

/// One executable per fuzz target, each with the driver and the shared helpers.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["CFuzzDriver", "FuzzSupport"] + dependencies)
}

let package = Package(
    name: "swift-clustaar-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../")],
    targets: [
        // libFuzzer's `LLVMFuzzerRunDriver`, declared for Swift (the symbol comes with -sanitize=fuzzer).
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver", product("PhoenixProtocol")]),
        fuzzTarget("FuzzFrameDecoder", [product("TransportPOSIX"), product("TransportCore")]),
        fuzzTarget("FuzzHandshakeResponse", [product("TransportPOSIX"), product("TransportCore")]),
        fuzzTarget("FuzzPhoenixJSONv1", [product("PhoenixProtocol")]),
        fuzzTarget("FuzzPhoenixJSONv2", [product("PhoenixProtocol")]),
        fuzzTarget("FuzzPhoenixV2Binary", [product("PhoenixProtocol")]),
        fuzzTarget("FuzzBotReply", [product("ClustaarModels")]),
        fuzzTarget("FuzzSocketMachine", [product("PhoenixProtocol")]),
    ]
)
