// The Swift blocks of README.md, verbatim, so that they compile with the tests
// (`ReadmeTests` checks that each block still appears here unchanged).
// swift-format-ignore-file
import Foundation

import ClustaarSDK
import TransportLWS

func chat(botID: String, interlocutorID: String, socketToken: String, botToken: String) async throws {
    let service = try ClustaarWebChatService(
        environment: URL(string: "wss://sockets.example.com/socket")!,
        transport: LWSTransport())
    try await service.connect()

    let channel = service.interlocutorChannel(
        botID: botID, interlocutorID: interlocutorID, socketToken: socketToken)
    let status = try await channel.join()
    print(status.control ? "an agent holds the conversation" : "the bot answers")

    Task {
        for await reply in channel.botReplies {
            for action in reply.actions {
                if case .text(let text) = action { print("bot:", text.displayText ?? "") }
            }
        }
    }
    Task {
        for await change in channel.controlChanges {
            print(change.control ? "an agent took control" : "the bot is back")
        }
    }

    // Returns once the server acknowledged it; throws if it was rejected, timed out, or the wait
    // ended before the acknowledgement (`.outcomeUnknown(cause)`: the connection was lost, the
    // channel crashed; never re-sent silently). Every error's description says what happened.
    try await channel.sendReply(token: botToken, .text("Hello"))
    try await channel.sendReply(token: botToken, .customEvent(name: "cart_abandoned"))

    await channel.leave()
    await service.disconnect()
}

import ClustaarSDK

/// A chat view's status line, kept right across drops, crashes and server restarts: start it
/// before `join()`, it ends when the channel does.
func follow(_ channel: InterlocutorChannel) async {
    for await event in channel.events {
        switch event {
        case .joined(let status, let isRejoin):
            // Every join: the first, and each rejoin after a reconnect. The status is the
            // server's state now (an agent may have taken the conversation while offline).
            print(isRejoin ? "back online:" : "joined:", status.control ? "an agent answers" : "the bot answers")
        case .controlChanged(let change):
            // A `control` event, or a rejoin that found the state changed while offline (then
            // `change.at` is nil); never twice for the same state.
            print(change.control ? "an agent took control" : "the bot is back")
        case .errored(let cause):
            print("reconnecting: \(cause)")  // connection lost, crashed (phx_error), rejoin timed out
        case .rejected(let status, let response, let willRetry):
            print("rejoin refused (\(status)): \(response)", willRetry ? "retrying" : "giving up")
        case .closed(let cause):
            print("channel closed: \(cause)")  // the last event
        case .botReply, .agentReply, .interlocutorReply, .error:
            break  // the conversation itself, in the same order
        }
    }
}

import ClustaarSDK
import ClustaarTestSupport

func joinAndReceive() async throws -> BotReply? {
    let transport = InMemoryTransport()
    let server = ScriptedPhoenixServer(transport: transport)
    let clock = ManualClock()
    let service = try ClustaarWebChatService(
        environment: URL(string: "ws://test/socket")!, transport: transport, clock: clock)
    try await service.connect()

    let channel = service.interlocutorChannel(botID: "b", interlocutorID: "i", socketToken: "t")
    let joining = Task { try await channel.join() }
    let join = try await server.nextMessage()  // the client's phx_join
    try server.reply(to: join, response: #"{"control":false}"#)
    _ = try await joining.value

    var replies = channel.botReplies.makeAsyncIterator()
    try server.push(
        topic: join.topic, event: "bot_reply",
        payload: #"{"fulfillment":{"actions":[{"type":"send_text_action","alternatives":["Hi"]}]}}"#,
        joinRef: join.ref)
    clock.advance(by: .seconds(30))  // a heartbeat goes out and is answered
    return await replies.next()
}

import PhoenixProtocol

func phoenixFrames() throws -> PhoenixMessage {
    let join = PhoenixMessage(
        joinRef: "1", ref: "1", topic: "interlocutor:42", event: "phx_join",
        payload: .json(#"{"bot_id":"b","socketToken":"t"}"#))
    _ = try PhoenixSerializer.jsonV2.encode(join)
    // .text(#"["1","1","interlocutor:42","phx_join",{"bot_id":"b","socketToken":"t"}]"#)

    return try PhoenixSerializer.jsonV2.decode(
        .text(Array(#"["1","1","interlocutor:42","phx_reply",{"response":{"control":false},"status":"ok"}]"#.utf8)))
    // kind == .reply(status: "ok"); payload == .json(#"{"control":false}"#), a slice of the
    // frame's bytes, ready for JSONDecoder.
}

import Foundation
import PhoenixClient
import TransportPOSIX

struct Shout: Codable, Sendable {
    var user: String
    var body: String
}

func lobby() async throws {
    let socket = try PhoenixSocket(
        endpoint: URL(string: "ws://localhost:4000/socket")!,
        transport: POSIXTransport())
    try await socket.connect()

    let room = socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
    Task {
        // One ordered stream: the server's messages and the channel's life.
        for await event in room.events {
            switch event {
            case .message(let message) where message.event == "shout":
                if let shout = try? message.decode(Shout.self) { print("\(shout.user): \(shout.body)") }
            case .joined(_, let isRejoin): print(isRejoin ? "rejoined" : "joined")
            case .errored(let cause): print("rejoining: \(cause)")
            case .closed(let cause): print("closed: \(cause)")
            default: break
            }
        }
    }
    try await room.join()

    // Each push returns the server's reply, or throws a `PhoenixClientError` that says why:
    // refused, timed out, or outcome unknown (the connection was lost, or the channel crashed,
    // before the reply; it is never re-sent).
    try await room.push("shout", encoding: Shout(user: "ada", body: "hello"))
    _ = try await room.push("upload", binary: [0x01, 0x02, 0xFF])  // a binary frame (JSON v2)

    await room.leave()
    await socket.disconnect()
}

import PhoenixClient

struct RoomMember: Decodable, Sendable {
    var online_at: String
    var device: String?
}

func whoIsHere(on socket: PhoenixSocket) async throws {
    let room = socket.channel("room:lobby", params: .json(#"{"user":"ada","meta":{"device":"phone"}}"#))
    // Made before the join: the server sends who is there right after it.
    let presence = PhoenixPresence(channel: room)
    let updates = presence.updates
    try await room.join()
    for await update in updates {  // until the channel closes
        switch update {
        case .join(let user, nil, _): print("\(user) joined")
        case .leave(let user, let remaining, _) where remaining.isEmpty: print("\(user) left")
        case .synced(let everyone):
            // Everyone present at this point, each meta decoded as the app's own type.
            for entry in everyone {
                print(entry.key, try entry.decodeMetas(as: RoomMember.self).compactMap(\.device))
            }
        default: break  // another tab or device of someone present, or a meta update
        }
    }
}
