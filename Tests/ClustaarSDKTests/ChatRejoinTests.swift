import ClustaarSDK
import ClustaarSandbox
import Foundation
import Testing

/// `clustaar-chat` prints every join (`--json` lines have their keys sorted), not only the first: an agent takes the conversation, the
/// server restarts, and the chat says it rejoined with an agent holding the conversation.
/// Run on demand (`CLUSTAAR_CHAT_REJOIN_TESTS=1 swift test --filter ChatRejoinTests`): they pass
/// alone, but in the full parallel run (with the other suites' child processes) the whole test
/// process stalled for about a minute while they ran, and other suites hit their time limits.
/// Until that is understood they stay out of `make test`.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProcessInfo.processInfo.environment["CLUSTAAR_CHAT_REJOIN_TESTS"] != nil))
struct ChatRejoinTests {
    @Test func everyRejoinIsPrintedInJSON() async throws {
        let chat = try await RunningChat(["--transport", "posix", "--json"])
        #expect(
            try await chat.line { $0.contains(#""event":"joined""#) }
                == #"{"control":false,"event":"joined","rejoin":false}"#)
        chat.sandbox.setControl(interlocutorID: RunningChat.interlocutorID, taken: true)
        #expect(try await chat.line { $0.contains(#""event":"control""#) } == #"{"control":true,"event":"control"}"#)
        try await chat.sandbox.restart()
        let error = try await chat.line { $0.contains(#""event":"channel_error""#) }
        #expect(error == #"{"event":"channel_error","message":"the connection was lost","rejoining":true}"#)
        #expect(
            try await chat.line { $0.contains(#""event":"joined""#) }
                == #"{"control":true,"event":"joined","rejoin":true}"#)
        await chat.stop()
    }

    @Test func everyRejoinIsPrintedInText() async throws {
        let chat = try await RunningChat(["--transport", "lws"])
        #expect(try await chat.line { $0.hasPrefix("(joined") } == "(joined)")
        chat.sandbox.setControl(interlocutorID: RunningChat.interlocutorID, taken: true)
        #expect(try await chat.line { $0.hasPrefix("(an agent") } == "(an agent took control)")
        try await chat.sandbox.restart()
        #expect(
            try await chat.line { $0.hasPrefix("(channel error") }
                == "(channel error: the connection was lost; rejoining)")
        #expect(try await chat.line { $0.hasPrefix("(rejoined") } == "(rejoined: an agent holds the conversation)")
        await chat.stop()
    }
}

/// `clustaar-chat --url <sandbox>` with nothing to say (it waits, up to two minutes of quiet),
/// its output read line by line as it comes.
struct RunningChat {
    static let interlocutorID = "6a1b2c3d4e5f60718293a4b5"

    struct Ended: Error {}

    let sandbox: ClustaarSandboxServer
    let process = Process()
    let lines: AsyncStream<String>

    init(_ arguments: [String]) async throws {
        sandbox = try await ClustaarSandboxServer.start()
        process.executableURL = ChatExecutableTests.executable
        process.arguments =
            ["--url", sandbox.url.absoluteString, "--interlocutor-id", Self.interlocutorID, "--exit-after-idle", "120"]
            + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        let reading = output.fileHandleForReading
        // Blocking reads on a thread of their own, not on the tasks' few threads.
        lines = AsyncStream { continuation in
            Thread {
                var pending: [UInt8] = []
                while case let data = reading.availableData, !data.isEmpty {
                    pending += data
                    while let newline = pending.firstIndex(of: 0x0A) {
                        continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                        pending.removeSubrange(...newline)
                    }
                }
                continuation.finish()
            }.start()
        }
        try process.run()
    }

    /// The next line that matches (lines before it are skipped).
    func line(_ matching: (String) -> Bool) async throws -> String {
        for await line in lines where matching(line) { return line }
        throw Ended()
    }

    /// Stops the chat (SIGTERM) and waits for it to exit, then stops the sandbox.
    func stop() async {
        process.terminate()
        let process = self.process
        await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
        await sandbox.shutdown()
    }
}
