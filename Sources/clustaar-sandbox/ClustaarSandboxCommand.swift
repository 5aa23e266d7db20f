// clustaar-sandbox: runs the local Clustaar-compatible Phoenix server until SIGINT or SIGTERM.
// It prints one line, `listening on ws://<host>:<port>/socket`, once the port is bound, so
// scripts can wait for it (with `--port 0` that line tells the port picked).
import ArgumentParser
import ClustaarSandbox
import Dispatch
import Foundation

@main
struct ClustaarSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustaar-sandbox",
        abstract: "A local Clustaar-compatible Phoenix Channels server (webchat sandbox).",
        discussion: """
            Serves ws://<host>:<port>/socket/websocket with vsn=1.0.0 (JSON v1) and vsn=2.0.0 (JSON v2, \
            binary frames for binary payloads). Join interlocutor:<id> with bot_id and socketToken \
            (the token "bad" is refused). Say "rich", "take control" or "release control" to the bot. \
            Join room:<name> with {"user": NAME, "meta": {...}} for Phoenix.Presence (presence_state, \
            presence_diff), shout {"body": ...}, ping and update_meta {"meta": {...}}.
            """
    )

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port: Int = 4000

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Seconds without any client frame before a socket is closed (code 1002).")
    var idleTimeout: Double = 60

    @Option(help: "Channels one socket may join.")
    var maxChannels: Int = 100

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard idleTimeout.isFinite, idleTimeout > 0, idleTimeout < 1e9 else {
            throw ValidationError("--idle-timeout must be a positive number of seconds")
        }
        guard maxChannels > 0 else { throw ValidationError("--max-channels must be at least 1") }
    }

    func run() async throws {
        let configuration = SandboxConfiguration(
            maxChannelsPerConnection: maxChannels,
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        let server = try await ClustaarSandboxServer.start(host: host, port: port, configuration: configuration)
        // Written unbuffered: a script waiting for this line must see it at once.
        FileHandle.standardOutput.write(Data("listening on \(server.url.absoluteString)\n".utf8))
        let signal = await TerminationSignal.wait()
        FileHandle.standardOutput.write(Data("received \(signal), shutting down\n".utf8))
        await server.shutdown()
    }
}

/// Waits for SIGINT or SIGTERM without killing the process, so the server can close its sockets.
enum TerminationSignal {
    static func wait() async -> String {
        let queue = DispatchQueue(label: "clustaar-sandbox.signals")
        let sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            signal(number, SIG_IGN)
            return (DispatchSource.makeSignalSource(signal: number, queue: queue), name)
        }
        let name = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let resumed = ResumeOnce(continuation)
            for (source, name) in sources {
                source.setEventHandler { resumed.resume(returning: name) }
                source.resume()
            }
        }
        for (source, _) in sources { source.cancel() }
        return name
    }

    /// Resumes a continuation at most once, whichever signal comes first (handlers run on one queue).
    private final class ResumeOnce: @unchecked Sendable {
        private var continuation: CheckedContinuation<String, Never>?
        init(_ continuation: CheckedContinuation<String, Never>) { self.continuation = continuation }
        func resume(returning value: String) {
            continuation?.resume(returning: value)
            continuation = nil
        }
    }
}
