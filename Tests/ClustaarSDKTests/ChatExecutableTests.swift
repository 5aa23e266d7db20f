import ClustaarSDK
import Foundation
import Testing

/// `clustaar-chat` as scripts use it: `--say` lines against the in-process sandbox, `--json`
/// events out, for each transport and wire format.
@Suite struct ChatExecutableTests {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("clustaar-chat")
    }

    static let options: [[String]] = [
        ["--transport", "posix", "--serializer", "json-v1"],
        ["--transport", "posix", "--serializer", "json-v2"],
        ["--transport", "lws", "--serializer", "json-v2"],
    ]

    @Test(arguments: options)
    func aScriptedConversationPrintsOneJSONEventPerLine(options: [String]) async throws {
        let (status, data) = try await Self.run(
            options + ["--json", "--say", "Hello", "--say", "take control", "--say", "release control"])
        #expect(status == 0)
        let events = try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            try ClustaarJSON.decode(JSONValue.self, from: ArraySlice(line.utf8))
        }
        let names = events.compactMap { $0["event"]?.stringValue }
        #expect(names.first == "connection")
        #expect(names.contains("joined"))
        let conversation = names.filter { ["bot_reply", "agent_reply", "control"].contains($0) }
        #expect(conversation == ["bot_reply", "control", "agent_reply", "control", "bot_reply"])
        let firstReply = try #require(events.first { $0["event"] == "bot_reply" })
        #expect(firstReply["reply"]?["fulfillment"]?["actions"]?[0]?["text"] == "Echo: Hello")
        #expect(events.filter { $0["event"] == "control" }.map { $0["control"] } == [true, false])
    }

    /// The binary v2 mode (JSON payloads in binary frames) is gone: a real Phoenix server reads a
    /// binary frame's payload as raw bytes, so its joins fail.
    @Test func binaryV2IsNoLongerASerializer() async throws {
        let (status, _) = try await Self.run(["--serializer", "binary-v2", "--json"])
        #expect(status != 0)
    }

    @Test func aRefusedTokenExitsWithAnError() async throws {
        let (status, data) = try await Self.run(["--transport", "posix", "--socket-token", "bad", "--json"])
        #expect(status != 0)
        #expect(String(decoding: data, as: UTF8.self).contains(#""event":"error""#))
    }

    /// Runs the chat and collects its output on a thread of its own: blocking reads must not
    /// hold one of the few threads every other test's tasks run on.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return await withCheckedContinuation { continuation in
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, data))
            }.start()
        }
    }
}
