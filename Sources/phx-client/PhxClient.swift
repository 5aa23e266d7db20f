// phx-client: a terminal client for any Phoenix app, built on PhoenixClient.
//
// It connects, joins one topic, sends the pushes given on the command line in order (each waits
// for its reply), and prints every event of the channel: as text, or with --json one JSON object
// per line in the server's order. A refused join exits non-zero with the server's reason; a
// refused or failed push is printed, the next one goes on, and the exit status is non-zero at
// the end (--fail-fast: stop at the first). With --presence, the channel's presence events (presence_state, presence_diff) are
// followed by a PhoenixPresence and printed as one line per sync (joins, leaves, who is there),
// in place of the raw messages.
import ArgumentParser
import Foundation
import PhoenixClient
import TransportLWS
import TransportPOSIX

@main
struct PhxClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phx-client",
        abstract: "Join a Phoenix channel from the terminal, push to it, and print what it receives.",
        discussion: """
            Pushes go out in the order given, after the join, each waiting for its reply. \
            Example: phx-client ws://localhost:4000/socket --topic room:lobby --params '{"user":"ada"}' \
            --push shout '{"body":"hi"}' --json --exit-after-idle 2
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

    @Argument(help: "The socket endpoint, e.g. ws://localhost:4000/socket.")
    var url: String

    @Option(help: "The channel's topic, e.g. room:lobby.")
    var topic: String

    @Option(help: "The join params, as a JSON object.")
    var params = "{}"

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Push EVENT with a JSON payload after the join (repeatable).", valueName: "EVENT JSON"))
    var push: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Push EVENT with bytes given in base64, in a binary frame (json-v2; repeatable).",
            valueName: "EVENT BASE64"))
    var pushBinary: [String] = []

    @Flag(
        help: """
            Follow the channel's presence (Phoenix.Presence): one line per sync with the keys that \
            joined and left and everyone present, instead of the presence_state/presence_diff messages.
            """)
    var presence = false

    @Flag(help: "Print one JSON object per line per event instead of text.")
    var json = false

    @Flag(help: "Stop at the first refused or failed push (by default the next one goes on).")
    var failFast = false

    @Option(help: "Leave the channel and exit after this many seconds without an event.")
    var exitAfterIdle: Double?

    @Option(help: "The WebSocket implementation: lws (libwebsockets) or posix (pure Swift).")
    var transport: TransportName = .lws

    @Option(help: "The wire format.")
    var serializer: SerializerName = .jsonV2

    func validate() throws {
        guard URL(string: url)?.host != nil else { throw ValidationError("the URL must be a ws(s) or http(s) URL") }
        if let exitAfterIdle, !(exitAfterIdle.isFinite && exitAfterIdle >= 0) {
            throw ValidationError("--exit-after-idle must be a number of seconds")
        }
        if push.count % 2 != 0 { throw ValidationError("--push takes two values: EVENT JSON") }
        if pushBinary.count % 2 != 0 { throw ValidationError("--push-binary takes two values: EVENT BASE64") }
        guard JSONText.isValid(params) else { throw ValidationError("--params is not valid JSON") }
        _ = try orderedPushes()
    }

    func run() async throws {
        let output = Output(json: json)
        var configuration = PhoenixSocket.Configuration()
        configuration.serializer = serializer.serializer
        let webSocket: any Transport =
            switch transport {
            case .lws: LWSTransport()
            case .posix: POSIXTransport()
            }
        let pushes = try orderedPushes()
        guard let endpoint = URL(string: url) else { throw ExitCode.validationFailure }
        let socket = try PhoenixSocket(endpoint: endpoint, transport: webSocket, configuration: configuration)
        let presenceNames = PhoenixPresence.EventNames()
        let printer = EventPrinter(output: output, skipping: presence ? [presenceNames.state, presenceNames.diff] : [])
        let channel = socket.channel(topic, params: .fixed(.json(params)), observer: printer)
        // Made before the join, so that the first state is seen; printed in order with the rest.
        let presenceFollower =
            presence
            ? PhoenixPresence(channel: channel, eventNames: presenceNames, onUpdates: { output.presence($0) }) : nil
        defer { withExtendedLifetime(presenceFollower) {} }
        // Printed on the socket's actor, in order with the channel's events (a stream read by a
        // task of its own could print `open` after `joined` on a loaded machine).
        let printingStates = Locked(true)
        socket.observeConnectionStates { state in
            if printingStates.withLock({ $0 }) { output.connection(state) }
        }
        // The output ends with the last event; leaving and closing are not printed.
        let stopPrintingStates = { printingStates.withLock { $0 = false } }
        defer { stopPrintingStates() }

        do {
            try await socket.connect()
            try await channel.join()  // the printer shows the reply
        } catch {
            output.error(error.description)
            stopPrintingStates()
            await socket.disconnect()
            throw ExitCode.failure
        }

        var failures = 0
        for push in pushes {
            do {
                try await channel.push(push.event, push.payload)
            } catch {
                failures += 1  // the printer showed it
                if failFast { break }
            }
        }
        if failFast && failures > 0 {
            // Stopped at the first failure: leave at once.
        } else if let exitAfterIdle {
            await output.waitUntilIdle(.milliseconds(Int64(exitAfterIdle * 1000)))
        } else {
            await printer.waitUntilClosed()
        }
        stopPrintingStates()
        await channel.leave()
        await socket.disconnect()
        if failures > 0 { throw ExitCode.failure }
    }

    struct Push {
        let event: String
        let payload: PhoenixPayload
    }

    /// The pushes in command-line order, `--push` and `--push-binary` interleaved as given
    /// (the parser collects each option's values separately).
    func orderedPushes() throws -> [Push] {
        var json = push[...]
        var binary = pushBinary[...]
        var pushes: [Push] = []
        for argument in CommandLine.arguments.dropFirst() {
            switch argument {
            case "--push":
                guard json.count >= 2 else { continue }
                let event = json.removeFirst()
                let text = json.removeFirst()
                guard JSONText.isValid(text) else { throw ValidationError("--push \(event): the payload is not JSON") }
                pushes.append(Push(event: event, payload: .json(text)))
            case "--push-binary":
                guard binary.count >= 2 else { continue }
                let event = binary.removeFirst()
                guard let bytes = Data(base64Encoded: binary.removeFirst()) else {
                    throw ValidationError("--push-binary \(event): the payload is not base64")
                }
                pushes.append(Push(event: event, payload: .binary(ArraySlice(bytes))))
            default:
                continue
            }
        }
        return pushes
    }
}

/// Turns the channel's events and replies into lines, on the socket's executor, so that they
/// keep the server's order.
final class EventPrinter: PhoenixChannelObserver {
    private let output: Output
    /// Messages not printed as messages (the presence events, printed as presence lines).
    private let skipped: Set<String>
    private let closed = Locked<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(output: Output, skipping skipped: Set<String> = []) {
        self.output = output
        self.skipped = skipped
    }

    func channelWillJoin() {}

    func channel(_ event: PhoenixChannelEvent) {
        switch event {
        case .message(let message):
            guard !skipped.contains(message.event) else { return }
            output.line(
                json: [("event", JSONText.string("message")), ("name", JSONText.string(message.event))]
                    + [JSONText.payloadMember(message.payload)],
                text: "\(message.event): \(JSONText.readable(message.payload))")
        case .joined(let response, let isRejoin):
            output.line(
                json: [("event", JSONText.string("joined")), ("response", JSONText.value(response))]
                    + (isRejoin ? [("rejoin", "true")] : []),
                text: "(\(isRejoin ? "rejoined" : "joined"): \(JSONText.readable(response)))")
        case .errored(let cause):
            output.line(
                json: [("event", JSONText.string("channel_error")), ("message", JSONText.string(cause.description))],
                text: "(channel error: \(cause); rejoining)")
        case .rejected(let status, let response, let willRetry):
            guard willRetry else { return }  // a refusal for good is the join's error
            output.line(
                json: [("event", JSONText.string("rejected")), ("status", JSONText.string(status))]
                    + [("response", JSONText.value(response))],
                text: "(join refused, retrying: \(JSONText.readable(response)))")
        case .closed(let cause):
            if cause != .left && cause != .joinRejected {
                output.line(
                    json: [("event", JSONText.string("closed")), ("reason", JSONText.string(cause.description))],
                    text: "(channel closed: \(cause))")
            }
            let waiters = closed.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    func channel(_ event: String, replied result: Result<PhoenixPayload, PhoenixClientError>) {
        let head: [(String, String)] = [("event", JSONText.string("reply")), ("push", JSONText.string(event))]
        switch result {
        case .success(let response):
            output.line(
                json: head + [("status", JSONText.string("ok")), JSONText.payloadMember(response, key: "response")],
                text: "\(event) -> ok \(JSONText.readable(response))")
        case .failure(.replyRejected(let status, let response)):
            output.line(
                json: head + [("status", JSONText.string(status)), JSONText.payloadMember(response, key: "response")],
                text: "\(event) -> \(status) \(JSONText.readable(response))")
        case .failure(let error):
            output.error("\(event): \(error)")
        }
    }

    /// Returns once the channel closed (left, closed by the server, or the socket disconnected).
    func waitUntilClosed() async {
        await withCheckedContinuation { continuation in
            let done = closed.withLock { state -> Bool in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
