import ClustaarSandbox
import Foundation
import Testing

/// `phx-client` end to end against the in-process sandbox's `interlocutor:*` channel, on both
/// transports: pushes in order after the join, one JSON line per event in the server's order,
/// binary payloads both ways, refused joins and pushes.
@Suite(.timeLimit(.minutes(2))) struct PhxClientExecutableTests {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("phx-client")
    }

    static let topic = "interlocutor:6a1b2c3d4e5f60718293a4b5"
    static let joinParams = #"{"bot_id":"5c8a1f0e9d3b2a0012c4e5f6","socketToken":"sandbox-socket-token"}"#

    static func say(_ text: String) -> String {
        #"{"token":"sandbox-bot-token","body":{"type":"text","message":"\#(text)"}}"#
    }

    @Test(arguments: ["posix", "lws"])
    func pushesGoInOrderAndEveryEventIsOneJSONLine(transport: String) async throws {
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        let (status, lines) = try await Self.run([
            sandbox.url.absoluteString, "--topic", Self.topic, "--params", Self.joinParams,
            "--push", "interlocutor_reply", Self.say("Hello"),
            "--push-binary", "ping", "AAEC/w==",
            "--push", "ping", #"{"n":1}"#,
            "--push", "interlocutor_reply", Self.say("binary"),
            "--json", "--exit-after-idle", "0.5", "--transport", transport,
        ])
        await sandbox.shutdown()
        #expect(status == 0)
        #expect(
            try lines.map(Self.summary) == [
                "connection connecting",
                "connection open",
                #"joined {"control":false}"#,
                "reply interlocutor_reply ok {}",
                "message interlocutor_reply",
                "message bot_reply",
                "reply ping ok binary AAEC/w==",
                #"reply ping ok {"n":1}"#,
                "reply interlocutor_reply ok {}",
                "message interlocutor_reply",
                "message binary_event binary AQID/w==",
            ])
        // The bot's answer is printed as the server sent it.
        let botReply = try #require(try lines.map(Self.object).first { $0["name"] as? String == "bot_reply" })
        let payload = try #require(botReply["payload"] as? [String: Any])
        #expect((payload["input"] as? [String: Any])?["message"] as? String == "Hello")
    }

    @Test func aRefusedJoinExitsWithTheServersReason() async throws {
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        let (status, lines) = try await Self.run([
            sandbox.url.absoluteString, "--topic", Self.topic, "--params", #"{"socketToken":"t"}"#,
            "--push", "ping", "{}", "--json", "--transport", "posix",
        ])
        await sandbox.shutdown()
        #expect(status != 0)
        #expect(
            try lines.map(Self.summary) == [
                "connection connecting", "connection open",
                #"error the server rejected the join (status error): {"reason":"missing bot_id"}"#,
            ])
    }

    /// A refused push is printed and the next one goes on; the exit status says one failed.
    /// With JSON v1 a binary push is refused before it is sent.
    @Test func aRefusedPushIsPrintedAndTheScriptGoesOn() async throws {
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        let (status, lines) = try await Self.run([
            sandbox.url.absoluteString, "--topic", Self.topic, "--params", Self.joinParams,
            "--push", "interlocutor_reply", Self.say("error"),
            "--push-binary", "ping", "AQ==",
            "--push", "ping", "[1]",
            "--json", "--exit-after-idle", "0.3", "--transport", "posix", "--serializer", "json-v1",
        ])
        await sandbox.shutdown()
        #expect(status != 0)
        #expect(
            try lines.map(Self.summary) == [
                "connection connecting",
                "connection open",
                #"joined {"control":false}"#,
                #"reply interlocutor_reply error {"reason":"bad request"}"#,
                "error ping: cannot encode: binary payloads need the JSON v2 serializer (JSON v1 has no binary frames)",
                "reply ping ok [1]",
            ])
    }

    /// With --fail-fast the first refused push ends the script: nothing after it is sent.
    @Test func failFastStopsAtTheFirstRefusedPush() async throws {
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        let (status, lines) = try await Self.run([
            sandbox.url.absoluteString, "--topic", Self.topic, "--params", Self.joinParams,
            "--push", "interlocutor_reply", Self.say("error"),
            "--push", "ping", "[1]",
            "--json", "--fail-fast", "--exit-after-idle", "0.3", "--transport", "posix",
        ])
        await sandbox.shutdown()
        #expect(status != 0)
        #expect(
            try lines.map(Self.summary) == [
                "connection connecting",
                "connection open",
                #"joined {"control":false}"#,
                #"reply interlocutor_reply error {"reason":"bad request"}"#,
            ])
    }

    @Test func presenceIsNotAvailableYet() async throws {
        let (status, _) = try await Self.run(["ws://127.0.0.1:1/socket", "--topic", "room:1", "--presence"])
        #expect(status != 0)
    }

    static func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// A line as `event key-fields`, payloads as sorted-key JSON.
    static func summary(_ line: String) throws -> String {
        let object = try object(line)
        func json(_ value: Any?) throws -> String {
            guard let value else { return "-" }
            let data = try JSONSerialization.data(
                withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        let event = object["event"] as? String ?? "?"
        switch event {
        case "connection": return "connection \(object["state"] as? String ?? "?")"
        case "joined": return "joined \(try json(object["response"]))"
        case "reply":
            let body = try object["binary"].map { "binary \($0)" } ?? json(object["response"])
            return "reply \(object["push"] as? String ?? "?") \(object["status"] as? String ?? "?") \(body)"
        case "message":
            let binary = object["binary"].map { " binary \($0)" } ?? ""
            return "message \(object["name"] as? String ?? "?")\(binary)"
        case "error": return "error \(object["message"] as? String ?? "?")"
        default: return line
        }
    }

    /// Runs phx-client and collects its output lines on a thread of its own.
    static func run(_ arguments: [String]) async throws -> (status: Int32, lines: [String]) {
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
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
                continuation.resume(returning: (process.terminationStatus, lines))
            }.start()
        }
    }
}
