import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Testing

/// `clustaar-sandbox` as a user runs it: a child process that prints its URL, serves, and stops
/// cleanly on SIGINT. The binary is built beside the test bundle by `swift build --build-tests`.
@Suite("clustaar-sandbox executable")
struct SandboxExecutableTests {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("clustaar-sandbox")
    }

    @Test("prints listening on ws://H:N/socket, serves, exits 0 on SIGINT")
    func runsUntilInterrupted() async throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["--port", "0", "--host", "127.0.0.1"]
        let output = Pipe()
        process.standardOutput = output
        let (terminations, terminated) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            terminated.yield(process.terminationStatus)
            terminated.finish()
        }
        try process.run()
        // Never let a stuck child hang the suite: kill it after 120 s whatever happens (not less: a
        // loaded machine has taken over 20 s to get here).
        let pid = process.processIdentifier
        let watchdog = MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .seconds(120)) {
            kill(pid, SIGKILL)
        }
        defer { watchdog.cancel() }

        let reader = output.fileHandleForReading
        let firstLine = await Self.readLine(reader)
        let prefix = "listening on ws://127.0.0.1:"
        try #require(firstLine.hasPrefix(prefix) && firstLine.hasSuffix("/socket"), "first line: \(firstLine)")
        let port = try #require(Int(firstLine.dropFirst(prefix.count).dropLast("/socket".count)))

        let client = try await TestWebSocketClient.connect(port: port, query: "vsn=2.0.0")
        try await client.send(text: #"[null,"1","phoenix","heartbeat",{}]"#)
        #expect(try await client.nextTexts(1) == [#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#])

        process.interrupt()
        // The server closes the socket on its way out (no channel joined: 1000).
        #expect(try await client.next() == .close(code: 1000, reason: ""))
        var statuses: [Int32] = []
        for await status in terminations { statuses.append(status) }
        #expect(statuses == [0])
        #expect(await Self.readLine(reader) == "received SIGINT, shutting down")
    }

    /// Reads one line from the child's output (blocking reads, off the test's threads).
    static func readLine(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}
