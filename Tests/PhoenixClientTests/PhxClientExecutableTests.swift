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

    /// `--presence` against `room:*`: each client prints one line per sync, after its join, and
    /// sees the other join and leave (a client's socket closing is its leave, as in Phoenix).
    /// Ada comes back in a second process, so both see each other come and go.
    @Test(arguments: ["posix", "lws"])
    func twoClientsInARoomSeeEachOtherJoinAndLeave(transport: String) async throws {
        // A client waits idle while the other acts: no idle close, however slow the machine.
        let sandbox = try await ClustaarSandboxServer.start(
            configuration: SandboxConfiguration(idleTimeout: .seconds(3600)))
        func client(_ user: String, _ serializer: String, pushing: [String] = []) throws -> LiveRun {
            try LiveRun(
                Self.executable,
                [
                    sandbox.url.absoluteString, "--topic", "room:lobby", "--params", #"{"user":"\#(user)"}"#,
                    "--presence", "--json", "--transport", transport, "--serializer", serializer,
                ] + pushing)
        }
        let opening = ["connection connecting", "connection open", "joined {}"]

        let ada = try client("ada", "json-v2")
        #expect(try await ada.next(4) == opening + ["presence joins=ada leaves= list=ada"])
        let bob = try client("bob", "json-v1", pushing: ["--push", "shout", #"{"body":"hi"}"#])
        // In a `let`, so that a failure prints the lines (one loaded run saw them differ over lws).
        let bobOpening = try await bob.next(6)
        let bobExpected =
            opening + ["presence joins=ada,bob leaves= list=ada,bob", "message shout", "reply shout ok {}"]
        #expect(bobOpening == bobExpected)
        // Presence lines keep the server's order among the other events.
        #expect(try await ada.next(2) == ["presence joins=bob leaves= list=ada,bob", "message shout"])

        await ada.stop()
        #expect(try await bob.next(1) == ["presence joins= leaves=ada list=bob"])

        let adaAgain = try client("ada", "json-v2")
        // The state lists keys in the server's order (sorted, as a small Elixir map is).
        #expect(try await adaAgain.next(4) == opening + ["presence joins=ada,bob leaves= list=ada,bob"])
        #expect(try await bob.next(1) == ["presence joins=ada leaves= list=bob,ada"])

        await bob.stop()
        #expect(try await adaAgain.next(1) == ["presence joins= leaves=bob list=ada"])
        await adaAgain.stop()
        await sandbox.shutdown()
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
        case "presence":
            func keys(_ name: String) -> String { (object[name] as? [String])?.joined(separator: ",") ?? "?" }
            return "presence joins=\(keys("joins")) leaves=\(keys("leaves")) list=\(keys("list"))"
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

/// A phx-client run whose output lines are read as they are printed.
final class LiveRun: Sendable {
    private let process: Process
    private let lines: AsyncStream<String>
    private let exited: AsyncStream<Void>

    init(_ executable: URL, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        let (exited, exit) = AsyncStream<Void>.makeStream()
        self.exited = exited
        try process.run()
        let process = process
        Thread {
            let handle = output.fileHandleForReading
            var buffer = Data()
            while case let chunk = handle.availableData, !chunk.isEmpty {
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    continuation.yield(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            continuation.finish()
            process.waitUntilExit()
            exit.finish()
        }.start()
    }

    /// The next `count` lines, summarized ("end" once the output ended).
    func next(_ count: Int) async throws -> [String] {
        var iterator = lines.makeAsyncIterator()
        var out: [String] = []
        for _ in 0..<count {
            guard let line = await iterator.next() else {
                out.append("end")
                continue
            }
            out.append(try PhxClientExecutableTests.summary(line))
        }
        return out
    }

    /// Ends the process (its socket closes) and waits until it has exited.
    func stop() async {
        process.terminate()
        for await _ in exited {}
    }
}
