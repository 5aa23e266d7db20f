import Foundation
import NIOCore
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// The server over real loopback sockets, talked to by a swift-nio WebSocket client. No sleeps:
/// every test awaits the frames themselves (each wait has a 5 s deadline).
@Suite("ClustaarSandboxServer over loopback")
struct SandboxServerTests {
    typealias W = Wire

    /// The answers whose text does not depend on the clock.
    static func withoutTimestamps(_ text: String) -> String {
        text.replacingOccurrences(
            of: #""timestamp":"[0-9T:.Z-]+""#, with: #""timestamp":"<t>""#, options: .regularExpression
        )
        .replacingOccurrences(of: #""at":[0-9]+"#, with: #""at":<t>"#, options: .regularExpression)
    }

    static func echoText(_ text: String) -> String {
        withoutTimestamps(W.echoText(text))
    }

    @Test("url and port: ws://127.0.0.1:<port>/socket with a real port")
    func urlAndPort() async throws {
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        defer { Task { await sandbox.shutdown() } }
        #expect(sandbox.port > 0)
        #expect(sandbox.url.absoluteString == "ws://127.0.0.1:\(sandbox.port)/socket")
        #expect(sandbox.isListening)
        await sandbox.shutdown()
        #expect(!sandbox.isListening)
        await #expect(throws: ClustaarSandboxServer.ServerError.self) { try await sandbox.start() }
    }

    @Test("JSON v2: join, text, heartbeat, ping; counters")
    func jsonV2Conversation() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await client.send(text: W.join())
        #expect(try await client.nextTexts(1) == [W.joinOK()])
        try await client.send(text: W.say("2", text: "Hello"))
        #expect(
            try await client.nextTexts(3).map(Self.withoutTimestamps) == [
                W.ack("2"), Self.echoText("Hello"), W.botEcho(of: "Hello"),
            ])
        try await client.send(text: #"[null,"3","phoenix","heartbeat",{}]"#)
        #expect(try await client.nextTexts(1) == [W.reply(nil, "3", topic: "phoenix", "ok", "{}")])
        try await client.sendPing([1, 2, 3])
        #expect(try await client.next() == .pong([1, 2, 3]))
        #expect(sandbox.statistics.connectionsAccepted == 1)
        #expect(sandbox.statistics.messagesReceived == 3)
        #expect(sandbox.statistics.openConnections == 1)
        // A client close is answered with 1000, then the server closes the connection.
        try await client.sendClose(code: 1000)
        #expect(try await client.next() == .close(code: 1000, reason: ""))
        try await client.waitUntilClosed()
        await sandbox.shutdown()
        #expect(sandbox.statistics.openConnections == 0)
    }

    @Test("JSON v1: join, text and control, without join_ref in the server's messages")
    func jsonV1Conversation() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=1.0.0")
        let t = W.topic
        try await client.send(
            text:
                #"{"topic":"\#(t)","event":"phx_join","payload":{"bot_id":"b","socketToken":"s"},"ref":"1","join_ref":"1"}"#
        )
        try await client.send(
            text:
                #"{"topic":"\#(t)","event":"interlocutor_reply","payload":{"token":"x","body":{"type":"text","message":"take control"}},"ref":"2"}"#
        )
        #expect(
            try await client.nextTexts(5).map(Self.withoutTimestamps) == [
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{"control":false},"status":"ok"},"ref":"1"}"#,
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"2"}"#,
                #"{"topic":"\#(t)","event":"interlocutor_reply","payload":{"message":"take control","timestamp":"<t>","type":"text"},"ref":null}"#,
                #"{"topic":"\#(t)","event":"control","payload":{"at":<t>,"value":true},"ref":null}"#,
                #"{"topic":"\#(t)","event":"agent_reply","payload":{"message":"Hello, I am an agent. How can I help?","type":"text"},"ref":null}"#,
            ])
        await client.close()
    }

    /// What the removed binary v2 mode did: a join whose JSON params travel in a binary frame.
    /// Phoenix's V2 serializer hands a binary frame's payload to the channel as raw bytes
    /// (`{:binary, data}`), so the channel's `join/3` finds no `bot_id`: an error reply in a text
    /// frame (the reply payload is a map), and the socket stays open.
    @Test("a join whose JSON params come in a binary frame is refused: missing bot_id")
    func jsonJoinInABinaryFrameIsRefused() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        let join = PhoenixMessage(
            joinRef: "1", ref: "1", topic: W.topic, event: "phx_join",
            payload: .binary(ArraySlice(#"{"bot_id":"b","socketToken":"s"}"#.utf8)))
        let frame = try PhoenixSerializer.jsonV2.encode(join, from: .client)
        #expect(frame.bytes.first == 0)  // a binary push frame
        try await client.send(binary: frame.bytes)
        #expect(try await client.nextTexts(1) == [W.reply("1", "1", "error", #"{"reason":"missing bot_id"}"#)])
        // Not joined: a push on the topic is unmatched. The same params as JSON join fine.
        try await client.send(text: W.say("2", text: "hi"))
        try await client.send(text: W.join("3"))
        #expect(
            try await client.nextTexts(2) == [
                W.reply(nil, "2", "error", #"{"reason":"unmatched topic"}"#),
                W.reply("3", "3", "ok", #"{"control":false}"#),
            ])
        await client.close()
    }

    @Test("vsn=2.0.0: a binary ping is answered with a binary reply; JSON stays in text frames")
    func binaryPayloadsTravelInBinaryFrames() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        // `serializer=binary` (what the binary v2 mode added) is ignored, as Phoenix ignores it.
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0&serializer=binary")
        try await client.send(text: W.join())
        #expect(try await client.nextTexts(1) == [W.joinOK()])
        let ping = PhoenixMessage(
            joinRef: "1", ref: "2", topic: W.topic, event: "ping", payload: .binary([0, 1, 0xfe, 0xff]))
        try await client.send(binary: try PhoenixSerializer.jsonV2.encode(ping, from: .client).bytes)
        let frame = try await client.next()
        guard case .binary(let bytes) = frame else { throw TestClientError(description: "not binary: \(frame)") }
        #expect(
            try PhoenixSerializer.jsonV2.decode(.binary(bytes), from: .server)
                == .reply(joinRef: "1", ref: "2", topic: W.topic, status: "ok", response: .binary([0, 1, 0xfe, 0xff])))
        await client.close()
    }

    @Test("socket token bad: error reply unauthorized, the socket stays open")
    func badToken() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await client.send(text: W.join(token: "bad"))
        try await client.send(text: #"[null,"2","phoenix","heartbeat",{}]"#)
        #expect(
            try await client.nextTexts(2) == [
                W.reply("1", "1", "error", #"{"reason":"unauthorized"}"#),
                W.reply(nil, "2", topic: "phoenix", "ok", "{}"),
            ])
        await client.close()
    }

    @Test("restart on the same port: joined sockets see 1012, a new connection works")
    func restartOnTheSamePort() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let port = sandbox.port
        let joined = try await TestWebSocketClient.connect(port: port, query: "vsn=2.0.0")
        let idle = try await TestWebSocketClient.connect(port: port, query: "vsn=2.0.0")
        try await joined.send(text: W.join())
        #expect(try await joined.nextTexts(1) == [W.joinOK()])

        try await sandbox.restart()
        #expect(sandbox.port == port)
        #expect(try await joined.next() == .close(code: 1012, reason: ""))
        #expect(try await idle.next() == .close(code: 1000, reason: ""))

        let again = try await TestWebSocketClient.connect(port: port, query: "vsn=2.0.0")
        try await again.send(text: W.join("5"))
        #expect(try await again.nextTexts(1) == [W.joinOK("5")])
        #expect(sandbox.statistics.connectionsAccepted == 3)
        await again.close()
    }

    @Test("stop refuses connections until start")
    func stopThenStart() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        await sandbox.stop()
        await #expect(throws: (any Error).self) {
            _ = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        }
        try await sandbox.start()
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await client.send(text: #"[null,"1","phoenix","heartbeat",{}]"#)
        #expect(try await client.nextTexts(1) == [W.reply(nil, "1", topic: "phoenix", "ok", "{}")])
        await client.close()
    }

    @Test("closeAllConnections sends the code asked for; the server keeps listening")
    func closeAllConnections() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        await sandbox.closeAllConnections(code: 1001, reason: "going away")
        #expect(try await client.next() == .close(code: 1001, reason: "going away"))
        try await client.waitUntilClosed()
        #expect(sandbox.statistics.openConnections == 0)
        let next = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        await next.close()
    }

    @Test("idle timeout closes a silent socket with 1002")
    func idleTimeout() async throws {
        let sandbox = try await ClustaarSandboxServer.start(
            // 1 s, not less: on a loaded machine a shorter one can run out during the upgrade.
            configuration: SandboxConfiguration(idleTimeout: .seconds(1)))
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        #expect(try await client.next() == .close(code: 1002, reason: ""))
        await client.close()
    }

    @Test("silent bot: the push gets no ack; the next frame is the heartbeat reply")
    func silentBot() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await client.send(text: W.join())
        #expect(try await client.nextTexts(1) == [W.joinOK()])
        sandbox.setBehavior(SandboxBehavior(bot: .silent))
        #expect(sandbox.behavior.bot == .silent)
        try await client.send(text: W.say("2", text: "Hello"))
        try await client.send(text: #"[null,"3","phoenix","heartbeat",{}]"#)
        #expect(try await client.nextTexts(1) == [W.reply(nil, "3", topic: "phoenix", "ok", "{}")])
        await client.close()
    }

    @Test("a fragmented message is joined before decoding")
    func fragmentedMessage() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let client = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        let frame = Array(#"[null,"1","phoenix","heartbeat",{}]"#.utf8)
        try await client.send(opcode: .text, bytes: Array(frame[..<10]), fin: false)
        try await client.send(opcode: .continuation, bytes: Array(frame[10...]), fin: true)
        #expect(try await client.nextTexts(1) == [W.reply(nil, "1", topic: "phoenix", "ok", "{}")])
        #expect(sandbox.statistics.messagesReceived == 1)
        await client.close()
    }

    @Test("a message over the frame size limit closes with 1009, whole or in fragments")
    func messageTooBig() async throws {
        let sandbox = try await ClustaarSandboxServer.start(configuration: SandboxConfiguration(maxFrameSize: 1024))
        defer { Task { await sandbox.shutdown() } }
        let whole = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await whole.send(opcode: .text, bytes: Array(repeating: UInt8(ascii: "a"), count: 1025))
        guard case .close(let code, _) = try await whole.next() else {
            Issue.record("expected a close frame")
            return
        }
        #expect(code == 1009)
        let fragmented = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        let half = Array(repeating: UInt8(ascii: "a"), count: 600)
        try await fragmented.send(opcode: .text, bytes: half, fin: false)
        try await fragmented.send(opcode: .continuation, bytes: half, fin: true)
        #expect(try await fragmented.next() == .close(code: 1009, reason: "message too big"))
        #expect(sandbox.statistics.messagesReceived == 0)
        await whole.close()
        await fragmented.close()
    }

    @Test("Phoenix 1.8 auth token: the phoenix subprotocol is selected, the token recorded")
    func authTokenSubprotocol() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let plain = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        #expect(plain.selectedSubprotocol == nil)
        #expect(sandbox.statistics.lastAuthToken == nil)
        // "secret token?" in base64url without padding.
        let withToken = try await TestWebSocketClient.connect(
            port: sandbox.port, query: "vsn=2.0.0",
            subprotocols: ["phoenix", "base64url.bearer.phx.c2VjcmV0IHRva2VuPw"])
        #expect(withToken.selectedSubprotocol == "phoenix")
        #expect(sandbox.statistics.lastAuthToken == "secret token?")
        await plain.close()
        await withToken.close()
    }

    @Test("paths other than */websocket and reject=1 are refused at the upgrade")
    func refusedUpgrades() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        await #expect(throws: (any Error).self) {
            _ = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0", path: "/socket")
        }
        await #expect(throws: (any Error).self) {
            _ = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0&reject=1")
        }
        #expect(sandbox.statistics.connectionsAccepted == 0)
    }
}
