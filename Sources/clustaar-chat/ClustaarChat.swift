// clustaar-chat: a terminal chat with a Clustaar bot, built on ClustaarSDK.
//
// With no --url it starts the local sandbox server in-process and talks to it, so it runs
// anywhere with no account. Bot replies are drawn readably (buttons and quick replies numbered:
// type the number to click), agent messages and control changes are shown, and connection
// changes too. For scripts: --say (repeatable), --json (one JSON object per event line) and
// --exit-after-idle. A message the server rejects (or that fails) is reported and the script goes
// on; the exit status is 1 if any failed (--fail-fast: stop at the first).
import ArgumentParser
import ClustaarSDK
import ClustaarSandbox
import Foundation
import PhoenixProtocol
import TransportLWS
import TransportPOSIX

@main
struct ClustaarChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustaar-chat",
        abstract: "Chat with a Clustaar bot from the terminal.",
        discussion: """
            Without --url, a local sandbox bot answers: say anything, or "rich", "take control", \
            "release control". Type a number to click a button, /location LAT LONG to share a \
            position, /quit to leave.
            """
    )

    enum TransportName: String, ExpressibleByArgument, CaseIterable {
        case lws, posix
    }

    enum SerializerName: String, ExpressibleByArgument, CaseIterable {
        case jsonV1 = "json-v1"
        case jsonV2 = "json-v2"

        var serializer: PhoenixSerializer {
            switch self {
            case .jsonV1: .jsonV1
            case .jsonV2: .jsonV2
            }
        }
    }

    @Option(help: "The socket endpoint, e.g. wss://host/socket (default: an in-process sandbox).")
    var url: String?

    @Option(help: "The bot id.")
    var botId = "5c8a1f0e9d3b2a0012c4e5f6"

    @Option(help: "The interlocutor id.")
    var interlocutorId = "6a1b2c3d4e5f60718293a4b5"

    @Option(help: "The interlocutor's socket token.")
    var socketToken = "sandbox-socket-token"

    @Option(help: "The bot's access token, sent with every message.")
    var botToken = "sandbox-bot-token"

    @Option(
        help: "The WebSocket implementation: lws (libwebsockets) or posix (pure Swift; wss through OpenSSL on Linux).")
    var transport: TransportName = .lws

    @Option(help: "The wire format.")
    var serializer: SerializerName = .jsonV2

    @Option(help: "Say this (repeatable); each waits for the previous one's acknowledgement and reply.")
    var say: [String] = []

    @Flag(help: "Stop the script at the first message that is rejected or fails (default: report it and go on).")
    var failFast = false

    @Flag(help: "Print one JSON object per line per event instead of text.")
    var json = false

    @Option(help: "Exit once nothing happened for this many seconds.")
    var exitAfterIdle: Double?

    @Option(
        name: .customLong("ca"),
        help: ArgumentHelp(
            "A PEM file of CA certificates to trust over wss:// instead of the system's (a server with a private CA).",
            valueName: "file"))
    var caFile: String?

    @Flag(help: "Accept any certificate and host name over wss://. For tests against local servers only.")
    var insecure = false

    func validate() throws {
        if let exitAfterIdle, !(exitAfterIdle.isFinite && exitAfterIdle >= 0) {
            throw ValidationError("--exit-after-idle must be a number of seconds")
        }
        if let url, URL(string: url)?.host == nil { throw ValidationError("--url must be a ws(s) or http(s) URL") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--ca: cannot read \(caFile)")
        }
        if caFile != nil && insecure { throw ValidationError("--ca and --insecure exclude each other") }
    }

    func run() async throws {
        let output = Output(json: json)
        let activity = Activity()
        var sandbox: ClustaarSandboxServer?
        let endpoint: URL
        if let url, let parsed = URL(string: url) {
            endpoint = parsed
        } else {
            let server = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
            sandbox = server
            endpoint = server.url
            await output.text("(sandbox bot at \(server.url.absoluteString))")
        }

        var configuration = ClustaarWebChatService.Configuration()
        configuration.serializer = serializer.serializer
        configuration.tls = TLSOptions(caFilePath: caFile, insecureSkipVerification: insecure)
        let webSocket: any Transport =
            switch transport {
            case .lws: LWSTransport()
            case .posix: POSIXTransport()
            }
        let service = try ClustaarWebChatService(
            environment: endpoint, transport: webSocket, configuration: configuration)
        let channel = service.interlocutorChannel(
            botID: botId, interlocutorID: interlocutorId, socketToken: socketToken)
        let display = Display(output: output, activity: activity, animateWaits: !json)
        let listeners = Self.listen(to: service, channel, display: display, output: output, activity: activity)
        defer { for listener in listeners { listener.cancel() } }

        var failedMessages = 0
        do {
            try await service.connect()
            let status = try await channel.join()
            await output.event("joined", [("control", .bool(status.control)), ("rejoin", false)])
            await output.text(status.control ? "(joined: an agent holds the conversation)" : "(joined)")
            await activity.touched()

            if !say.isEmpty {
                failedMessages = await Self.script(
                    say, channel: channel, botToken: botToken, failFast: failFast, output: output, activity: activity)
            } else if isatty(STDIN_FILENO) != 0 {
                await Self.interactive(channel: channel, botToken: botToken, display: display, output: output)
            } else {
                let lines = StandardInput.lines().filter { !$0.isEmpty }
                var script: [String] = []
                for await line in lines { script.append(line) }
                failedMessages = await Self.script(
                    script, channel: channel, botToken: botToken, failFast: failFast, output: output,
                    activity: activity)
            }
            if let exitAfterIdle, !(failFast && failedMessages > 0) {
                await activity.waitUntilIdle(.milliseconds(Int64(exitAfterIdle * 1000)))
            }
        } catch {
            await output.event("error", [("message", .string("\(error)"))])
            await output.text("error: \(error)")
            await channel.leave()
            await service.disconnect()
            await sandbox?.shutdown()
            throw ExitCode.failure
        }
        await channel.leave()
        await service.disconnect()
        await sandbox?.shutdown()
        if failedMessages > 0 {
            await output.event("failed", [("messages", .number(JSONNumber(failedMessages)))])
            await output.text("(\(failedMessages) message\(failedMessages == 1 ? "" : "s") not delivered)")
            throw ExitCode.failure
        }
    }

    /// One task per stream; each prints its events as they come.
    static func listen(
        to service: ClustaarWebChatService,
        _ channel: InterlocutorChannel,
        display: Display,
        output: Output,
        activity: Activity
    ) -> [Task<Void, Never>] {
        let states = service.connectionStates
        let events = channel.events
        return [
            Task {
                var opened = false
                for await state in states {
                    await activity.touched()
                    switch state {
                    case .connecting: await output.event("connection", [("state", "connecting")])
                    case .open:
                        opened = true
                        await output.event("connection", [("state", "open")])
                        await output.text("(connected)")
                    case .closed(let code, let reason):
                        await output.event(
                            "connection",
                            [
                                ("state", "closed"),
                                ("code", code.map { .number(JSONNumber(Int($0.rawValue))) } ?? .null),
                                ("reason", .string(reason)),
                            ])
                        await output.text("(connection closed\(code.map { " \($0)" } ?? ""))")
                    case .error(let error):
                        await output.event("connection", [("state", "error"), ("message", .string("\(error)"))])
                        await output.text("(connection error: \(error))")
                        // The service does not retry a permanent failure (an untrusted certificate).
                        // Before the first open, `connect()` throws it and `run` exits; after it,
                        // nothing else would end the chat.
                        if error.isPermanent && opened {
                            await output.event("error", [("message", .string("\(error)"))])
                            await output.text("error: \(error) (not retried)")
                            Foundation.exit(EXIT_FAILURE)
                        }
                    case .reconnecting(let attempt, let delay):
                        await output.event(
                            "connection", [("state", "reconnecting"), ("attempt", .number(JSONNumber(attempt)))])
                        await output.text("(reconnecting, attempt \(attempt) in \(delay))")
                    }
                }
            },
            // One task for the channel's events, so the output keeps the server's order.
            Task {
                for await event in events {
                    switch event {
                    case .botReply(let reply):
                        await output.event("bot_reply", [("reply", Output.value(reply))])
                        await display.show(reply)
                        await activity.replyShown()
                    case .agentReply(let reply):
                        await output.event("agent_reply", [("reply", Output.value(reply))])
                        await output.text("agent> \(reply.message)")
                        await activity.replyShown()
                    case .interlocutorReply(let body):
                        await activity.touched()
                        await output.event("interlocutor_reply", [("body", Output.value(body))])
                    case .controlChanged(let change):
                        await activity.touched()
                        await output.event("control", [("control", .bool(change.control))])
                        await output.text(change.control ? "(an agent took control)" : "(the bot is back)")
                    case .error(let error):
                        await activity.touched()
                        await output.event("error", [("message", .string("\(error)"))])
                        await output.text("(event error: \(error))")
                    case .joined(let status, let isRejoin):
                        // The first join is printed once `join()` returns; every rejoin here.
                        guard isRejoin else { continue }
                        await activity.touched()
                        await output.event("joined", [("control", .bool(status.control)), ("rejoin", true)])
                        await output.text(
                            status.control
                                ? "(rejoined: an agent holds the conversation)" : "(rejoined: the bot answers)")
                    case .errored(let cause):
                        await activity.touched()
                        await output.event("channel_error", [("message", .string("\(cause)")), ("rejoining", true)])
                        await output.text("(channel error: \(cause); rejoining)")
                    case .rejected(let status, let response, let willRetry):
                        await activity.touched()
                        await output.event(
                            "join_rejected",
                            [("status", .string(status)), ("response", response), ("retrying", .bool(willRetry))])
                        await output.text("(join refused (\(status)): \(response)\(willRetry ? "; retrying" : ""))")
                    case .closed(let cause):
                        await activity.touched()
                        await output.event("channel_closed", [("cause", .string("\(cause)"))])
                        await output.text("(channel closed: \(cause))")
                    }
                }
            },
        ]
    }

    /// Says each line after the previous one was acknowledged and answered. A line the server
    /// rejects, or that fails, is reported and the script goes on (`failFast`: it stops there).
    /// Returns how many lines failed.
    static func script(
        _ lines: [String],
        channel: InterlocutorChannel,
        botToken: String,
        failFast: Bool,
        output: Output,
        activity: Activity
    ) async -> Int {
        var failed = 0
        for line in lines {
            await output.text("you> \(line)")
            let before = await activity.replies
            do {
                try await channel.sendReply(token: botToken, .text(line))
            } catch {
                failed += 1
                await output.event("error", [("say", .string(line)), ("message", .string("\(error)"))])
                await output.text("(not delivered: \(error))")
                if failFast { return failed }
                continue
            }
            if await !activity.waitForReplies(before + 1, timeout: .seconds(10)) {
                await output.text("(no reply within 10 s)")
            }
        }
        return failed
    }

    /// Reads the terminal until /quit or end of input.
    static func interactive(channel: InterlocutorChannel, botToken: String, display: Display, output: Output) async {
        await output.text("(type a message, a number to click, /location LAT LONG, or /quit)")
        for await line in StandardInput.lines() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed == "/quit" { return }
            let body: InterlocutorReplyBody
            if let number = Int(trimmed) {
                switch await display.clickable(number) {
                case .send(let clicked): body = clicked
                case .open(let url):
                    await output.text("(open \(url) in a browser)")
                    continue
                case nil:
                    body = .text(trimmed)
                }
            } else if trimmed.hasPrefix("/location ") {
                let parts = trimmed.split(separator: " ").dropFirst().compactMap { Double($0) }
                guard parts.count == 2 else {
                    await output.text("(usage: /location LAT LONG)")
                    continue
                }
                body = .coordinates(latitude: parts[0], longitude: parts[1])
            } else {
                body = .text(trimmed)
            }
            do {
                try await channel.sendReply(token: botToken, body)
            } catch {
                await output.text("(not delivered: \(error))")
            }
        }
    }
}

/// Plays bot replies (waits show as a typing indicator) and remembers what can be clicked.
actor Display {
    private let output: Output
    private let activity: Activity
    private let animateWaits: Bool
    private var renderer = ReplyRenderer()

    init(output: Output, activity: Activity, animateWaits: Bool) {
        self.output = output
        self.activity = activity
        self.animateWaits = animateWaits
    }

    func show(_ reply: BotReply) async {
        for step in renderer.render(reply) {
            switch step {
            case .line(let line): await output.text(line)
            case .typing(let seconds):
                await output.text("bot is typing…")
                // Clamped: a terminal demo does not wait a minute (the webchat demo uses 60 s).
                if animateWaits { try? await Task.sleep(for: .milliseconds(Int64(min(seconds, 2) * 1000))) }
                await activity.touched()
            }
        }
    }

    func clickable(_ number: Int) -> Clickable? {
        let clickables = renderer.clickables
        guard number >= 1, number <= clickables.count else { return nil }
        return clickables[number - 1]
    }
}

/// Standard input as an async sequence of lines, read on a thread of its own.
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}
