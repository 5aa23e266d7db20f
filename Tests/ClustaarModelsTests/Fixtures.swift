import ClustaarModels
import Foundation
import Testing

/// The shared Clustaar fixtures: `<package root>/../shared/fixtures/clustaar/`. A missing folder
/// or file fails the test that needs it, with the path it looked at (never a skip).
enum Fixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ClustaarModelsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()  // the folder that holds shared/
        .appendingPathComponent("shared/fixtures/clustaar", isDirectory: true)

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture not found: \(path) (the repository must sit next to shared/)" }
    }

    /// The bytes of a fixture, by its path relative to the fixtures folder.
    static func bytes(_ name: String) throws -> ArraySlice<UInt8> {
        let url = directory.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw Missing(path: url.path) }
        return ArraySlice(data)
    }

    /// A fixture parsed as a free-form JSON value.
    static func json(_ name: String) throws -> JSONValue {
        try ClustaarJSON.decode(JSONValue.self, from: bytes(name))
    }

    /// An event fixture decoded through the envelope rule, required to be a value.
    static func value<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value {
        let content = try ClustaarEnvelope.decode(type, from: bytes(name))
        return try #require(content.value, "\(name) decoded as \(content), expected a value")
    }

    /// The file names (relative, `invalid/` included) in the fixtures folder.
    static func allFileNames() throws -> [String] {
        let manager = FileManager.default
        guard manager.fileExists(atPath: directory.path) else { throw Missing(path: directory.path) }
        let top = try manager.contentsOfDirectory(atPath: directory.path)
        let invalid = try manager.contentsOfDirectory(atPath: directory.appendingPathComponent("invalid").path)
        return (top.filter { $0.hasSuffix(".json") } + invalid.map { "invalid/\($0)" }).sorted()
    }
}

/// Encodes then decodes a value with this module's coders.
func roundTrip<Value: Codable>(_ value: Value) throws -> Value {
    try ClustaarJSON.decode(Value.self, from: ClustaarJSON.encode(value)[...])
}

/// Encodes a value and reads it back as a free-form JSON value, to compare with a fixture.
func encodedJSON(_ value: some Encodable) throws -> JSONValue {
    try ClustaarJSON.decode(JSONValue.self, from: ClustaarJSON.encode(value)[...])
}

/// Ids used across the fixtures.
enum FixtureID {
    static let interlocutor = "6a1f3d90e2c14b7f9a0d5e31"
    static let welcomeStep = "6a1f0a11c3d24e5f6a7b8c90"
    static let step91 = "6a1f0a11c3d24e5f6a7b8c91"
    static let pricingStep = "6a1f0a11c3d24e5f6a7b8c92"
    static let step93 = "6a1f0a11c3d24e5f6a7b8c93"
    static let planChosenStep = "6a1f0a11c3d24e5f6a7b8c94"
    static let step95 = "6a1f0a11c3d24e5f6a7b8c95"
    static let token = "fixture-bot-token-not-a-real-secret"
}
