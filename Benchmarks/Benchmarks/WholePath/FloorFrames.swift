// The floor of suite 5: the transport alone, with Phoenix v2 JSON frames written by hand and
// read with the least parse that can tell a reply from a push. No SDK, no serializer, no
// state machine: what any Phoenix client over this transport must at least pay.
import Foundation
import TransportCore

/// The bytes the floor client sends. The push payload is the one `sendReply(token:.text(...))`
/// writes (ClustaarJSON sorts keys), so every client puts the same bytes on the wire.
enum FloorFrames {
    static let topic = "interlocutor:\(WholePathScript.interlocutorID)"

    static func join(ref: Int) -> [UInt8] {
        Array(
            "[\"1\",\"\(ref)\",\"\(topic)\",\"phx_join\",{\"bot_id\":\"\(WholePathScript.botID)\",\"socketToken\":\"\(WholePathScript.socketToken)\"}]"
                .utf8)
    }

    static func push(ref: Int) -> [UInt8] {
        Array(
            "[\"1\",\"\(ref)\",\"\(topic)\",\"interlocutor_reply\",{\"body\":{\"message\":\"\(WholePathScript.text)\",\"type\":\"text\"},\"params\":{\"channel\":\"clustaar_web_chat\",\"debug\":0,\"display\":true},\"token\":\"\(WholePathScript.botToken)\"}]"
                .utf8)
    }
}

/// What the floor client reads of a server frame `[join_ref, ref, topic, event, payload]`.
struct FrameHead: Equatable {
    enum Event: Equatable {
        case reply
        case botReply
        case other
    }

    /// The ref of a reply; nil for a server push.
    var ref: Int?
    var event: Event

    private static let phxReply = Array("phx_reply".utf8)
    private static let botReply = Array("bot_reply".utf8)

    /// Reads the first four elements (strings without escapes, or null); nil when the frame is
    /// not shaped like that.
    static func read(_ bytes: [UInt8]) -> FrameHead? {
        var index = 0
        guard bytes.first == UInt8(ascii: "[") else { return nil }
        index = 1
        var elements: [Range<Int>?] = []
        while elements.count < 4 {
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "n") {
                elements.append(nil)
                index += 4
            } else if bytes[index] == UInt8(ascii: "\"") {
                let start = index + 1
                index = start
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += 1 }
                guard index < bytes.count else { return nil }
                elements.append(start..<index)
                index += 1
            } else {
                return nil
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        guard let eventRange = elements[3] else { return nil }
        let event = bytes[eventRange]
        let kind: Event =
            event.elementsEqual(phxReply) ? .reply : event.elementsEqual(botReply) ? .botReply : .other
        var ref: Int?
        if let refRange = elements[1] {
            var value = 0
            for byte in bytes[refRange] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            ref = value
        }
        return FrameHead(ref: ref, event: kind)
    }
}

/// One transport connection driven with hand-written frames, used by one task at a time.
final class FloorLink {
    private let connection: any WebSocketConnection
    private var inbound: WebSocketInbound.AsyncIterator
    private var nextRef = 1

    init(_ connection: any WebSocketConnection) {
        self.connection = connection
        inbound = connection.inbound.makeAsyncIterator()
    }

    /// Sends the join and waits for its ok reply.
    func join() async throws {
        let ref = takeRef()
        try await connection.send(.text(FloorFrames.join(ref: ref)))
        try await untilReply(ref)
    }

    /// Sends one interlocutor_reply push; returns its ref.
    @discardableResult
    func push() async throws -> Int {
        let ref = takeRef()
        try await connection.send(.text(FloorFrames.push(ref: ref)))
        return ref
    }

    /// Reads frames (pushes included) until the reply to `ref`.
    func untilReply(_ ref: Int) async throws {
        while true {
            let head = try await next()
            if head.event == .reply, head.ref == ref { return }
        }
    }

    /// Reads frames until a bot_reply push.
    func untilBotReply() async throws {
        while try await next().event != .botReply {}
    }

    /// The next server frame's head.
    func next() async throws -> FrameHead {
        guard let message = try await inbound.next() else { throw WholePathFailure("the connection ended") }
        guard case .text(let bytes) = message else { throw WholePathFailure("unexpected \(message)") }
        guard let head = FrameHead.read(bytes) else {
            throw WholePathFailure("unreadable frame \(String(decoding: bytes, as: UTF8.self))")
        }
        return head
    }

    private func takeRef() -> Int {
        defer { nextRef += 1 }
        return nextRef
    }

    /// Runs `body` with a link over a new connection of `transport` to the sandbox.
    static func with<Result: Sendable>(
        _ transport: some Transport, port: Int, _ body: (FloorLink) async throws -> Result
    ) async throws -> Result {
        guard let url = URL(string: "ws://127.0.0.1:\(port)/socket/websocket?vsn=2.0.0") else {
            throw WholePathFailure("bad URL")
        }
        return try await transport.withConnection(to: WebSocketRequest(url: url)) { connection in
            try await body(FloorLink(connection))
        }
    }
}
