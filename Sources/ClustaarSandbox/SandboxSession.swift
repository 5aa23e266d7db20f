import ClustaarModels
import Foundation
import PhoenixProtocol

/// The server side of one Phoenix socket, without I/O: decoded client messages in, the messages
/// to send back (and maybe a close request) out.
///
/// It behaves like the recorded Clustaar-like Phoenix 1.7 server:
///
/// | client sends | server answers |
/// |---|---|
/// | `heartbeat` on `phoenix` | ok reply `{}` |
/// | `phx_join` on `interlocutor:<id>` | ok `{"control":<bool>}` (the server-wide `SandboxControl`); error `missing bot_id`, `missing socketToken`, `unauthorized` (token `"bad"`), `too many channels joined` |
/// | `phx_join` on a joined topic | the new join's reply, then `phx_close` with the OLD join_ref |
/// | `phx_join` on another topic | error `unmatched topic`, join_ref null |
/// | `phx_leave` | ok `{}`, then `phx_close` if the topic was joined |
/// | any push on a topic not joined | error `unmatched topic`, join_ref null |
/// | `interlocutor_reply` | ok `{}`, the echo (`interlocutor_reply` + `timestamp`), then the bot's answer |
/// | `upload` (binary payload) on `interlocutor:<id>` | ok `{"size":N}` (N bytes received); a JSON payload: error `upload expects a binary payload` |
/// | `ping` | ok with the same payload (a binary one in a binary reply) |
/// | `phx_join` on `room:<name>` `{user, meta?}` | ok `{}`, then what `SandboxRooms` sends (presence); error `missing user`, `meta must be an object` |
/// | `shout` `{body}` on a room | the broadcast `shout` `{user, body}` to the room, then ok `{}`; no `body`: error `shout expects {body}` |
/// | `update_meta` `{meta}` on a room | ok `{}`, then the presence diff; `meta` not an object: error `update_meta expects {meta}` |
///
/// A binary payload (a push in a binary frame) is raw bytes, as Phoenix hands it to a channel
/// (`{:binary, data}`): it is never parsed as JSON, so a join sent that way has no params.
///
/// Room requests (`Action.room`) go to the server's shared `SandboxRooms`, which answers with
/// the presence messages of every connection in the room.
///
/// Text messages named in `SandboxBot.Command` steer it (`rich`, `take control`, `noreply`...).
///
/// Server pushes carry the channel's join_ref and a null ref; `phx_close` carries the join_ref as
/// its ref too. Time is an input (`now`): the session never reads a clock.
public struct SandboxSession: Sendable {
    /// What the session asks its caller to do, in order.
    public enum Action: Sendable, Hashable {
        /// Send this message to the client.
        case send(PhoenixMessage)
        /// Close the socket with this WebSocket close code and reason.
        case close(code: UInt16, reason: String)
        /// Ask the server's shared `SandboxRooms` (presence and broadcasts of `room:*`).
        case room(RoomRequest)
    }

    /// What a `room:*` channel asks of the rooms every connection shares.
    public enum RoomRequest: Sendable, Hashable {
        /// Track `user` with `meta` (after the join's ok reply).
        case join(topic: String, joinRef: String?, user: String, meta: JSONObject)
        /// Untrack this connection's user (a leave, a rejoin's old channel).
        case leave(topic: String)
        /// `Presence.update` of this connection's meta.
        case updateMeta(topic: String, meta: JSONObject)
        /// Broadcast to every member of the room.
        case broadcast(topic: String, event: String, payload: JSONValue)
    }

    /// One joined channel.
    struct Channel: Sendable, Hashable {
        var joinRef: String?
        var kind: Kind

        enum Kind: Sendable, Hashable {
            /// `interlocutor:<id>`.
            case interlocutor(id: String, botID: String)
            /// `room:<name>`, with the user tracked there.
            case room(user: String)
        }
    }

    /// The channel limit comes from here.
    public let configuration: SandboxConfiguration
    private var channels: [String: Channel] = [:]
    /// Interlocutors whose conversation an agent holds: shared by every session of a server
    /// (it survives a leave and rejoin, a reconnect and a server restart).
    public let control: SandboxControl

    /// A session with no channel joined. `control` is the server's shared control state; a
    /// session alone gets its own.
    public init(
        configuration: SandboxConfiguration = SandboxConfiguration(), control: SandboxControl = SandboxControl()
    ) {
        self.configuration = configuration
        self.control = control
    }

    /// The topics joined now, sorted.
    public var joinedTopics: [String] { channels.keys.sorted() }

    /// Whether `topic` is joined now.
    public func isJoined(_ topic: String) -> Bool { channels[topic] != nil }

    /// Whether an agent holds the conversation of this interlocutor.
    public func isControlTaken(interlocutorID: String) -> Bool { control.isTaken(interlocutorID: interlocutorID) }

    /// Handles one message from the client.
    public mutating func received(
        _ message: PhoenixMessage,
        at now: Date,
        behavior: SandboxBehavior = SandboxBehavior()
    ) -> [Action] {
        guard case .event(let event) = message.kind else {
            // Clients do not send replies; a real server's serializer would not even decode one.
            return [.close(code: 1003, reason: "clients do not send phx_reply")]
        }
        if message.topic == PhoenixEvent.heartbeatTopic && event == PhoenixEvent.heartbeat {
            guard behavior.answersHeartbeats else { return [] }
            return [reply(to: message, status: "ok", SandboxBot.emptyResponse)]
        }
        switch event {
        case PhoenixEvent.join: return join(message)
        case PhoenixEvent.leave: return leave(message)
        default: break
        }
        guard let channel = channels[message.topic] else {
            return [unmatchedTopic(message)]
        }
        switch (event, channel.kind) {
        case ("ping", _): return [reply(to: message, status: "ok", message.payload)]
        case ("interlocutor_reply", .interlocutor(let interlocutorID, _)):
            return interlocutorReply(message, on: channel, interlocutorID: interlocutorID, at: now, behavior: behavior)
        case ("upload", .interlocutor):
            guard case .binary(let bytes) = message.payload else {
                return [
                    reply(
                        to: message, status: "error",
                        SandboxBot.errorResponse(reason: "upload expects a binary payload"))
                ]
            }
            return [reply(to: message, status: "ok", ["size": .integer(Int64(bytes.count))])]
        case ("shout", .room(let user)):
            guard let body = jsonObject(message.payload)?["body"] else {
                return [reply(to: message, status: "error", SandboxBot.errorResponse(reason: "shout expects {body}"))]
            }
            // The broadcast leaves the channel before its reply, so the shouter sees it first.
            return [
                .room(
                    .broadcast(topic: message.topic, event: "shout", payload: ["body": body, "user": .string(user)])),
                reply(to: message, status: "ok", SandboxBot.emptyResponse),
            ]
        case ("update_meta", .room):
            guard let meta = jsonObject(message.payload)?["meta"]?.objectValue else {
                return [
                    reply(to: message, status: "error", SandboxBot.errorResponse(reason: "update_meta expects {meta}"))
                ]
            }
            return [
                reply(to: message, status: "ok", SandboxBot.emptyResponse),
                .room(.updateMeta(topic: message.topic, meta: meta)),
            ]
        default:
            return [reply(to: message, status: "error", SandboxBot.errorResponse(reason: "unhandled event \(event)"))]
        }
    }

    /// The payload as a JSON object; nil for a binary payload (bytes, never JSON) or other JSON.
    private func jsonObject(_ payload: PhoenixPayload) -> JSONValue? {
        guard case .json(let bytes) = payload, let value = try? JSONValue.parse(bytes), value.objectValue != nil else {
            return nil
        }
        return value
    }

    // MARK: Join and leave

    private mutating func join(_ message: PhoenixMessage) -> [Action] {
        let interlocutorPrefix = "interlocutor:"
        let roomPrefix = "room:"
        let isRoom = message.topic.hasPrefix(roomPrefix)
        guard isRoom || message.topic.hasPrefix(interlocutorPrefix) else { return [unmatchedTopic(message)] }
        // A join replaces any channel already on the topic, whatever the join's outcome.
        let replaced = channels.removeValue(forKey: message.topic)
        let joinRef = message.joinRef ?? message.ref
        var actions: [Action] = []
        let validated: Result<(Channel.Kind, JSONValue, JSONObject), JoinRefusal>
        if isRoom {
            validated = validateRoomJoin(message.payload).map { user, meta in (.room(user: user), [:], meta) }
        } else {
            let interlocutorID = String(message.topic.dropFirst(interlocutorPrefix.count))
            validated = validateJoin(message.payload).map { botID in
                let taken = control.isTaken(interlocutorID: interlocutorID)
                return (.interlocutor(id: interlocutorID, botID: botID), SandboxBot.joinResponse(control: taken), [:])
            }
        }
        var tracking: Action?
        switch validated {
        case .failure(let reason):
            actions.append(reply(to: message, status: "error", SandboxBot.errorResponse(reason: reason.reason)))
        case .success(let (kind, response, meta)):
            if channels.count >= configuration.maxChannelsPerConnection {
                actions.append(
                    reply(to: message, status: "error", SandboxBot.errorResponse(reason: "too many channels joined")))
            } else {
                channels[message.topic] = Channel(joinRef: joinRef, kind: kind)
                actions.append(reply(to: message, status: "ok", response))
                if case .room(let user) = kind {
                    tracking = .room(.join(topic: message.topic, joinRef: joinRef, user: user, meta: meta))
                }
            }
        }
        // The old channel ends after the new join's reply (as recorded); its tracked user leaves
        // before the new one is tracked.
        if let replaced {
            actions.append(closeMessage(topic: message.topic, channel: replaced))
            if case .room = replaced.kind { actions.append(.room(.leave(topic: message.topic))) }
        }
        if let tracking { actions.append(tracking) }
        return actions
    }

    private struct JoinRefusal: Error { var reason: String }

    /// The user and meta of a room join `{user, meta?}`. As with any join, a binary payload has
    /// no params, hence no user.
    private func validateRoomJoin(_ payload: PhoenixPayload) -> Result<(String, JSONObject), JoinRefusal> {
        guard let params = jsonObject(payload), let user = params["user"]?.stringValue else {
            return .failure(JoinRefusal(reason: "missing user"))
        }
        guard let meta = params["meta"] else { return .success((user, [:])) }
        guard let object = meta.objectValue else { return .failure(JoinRefusal(reason: "meta must be an object")) }
        return .success((user, object))
    }

    /// The bot id of valid join params, or why they are refused.
    ///
    /// A binary payload (a join sent in a binary frame) reaches a Phoenix channel's `join/3` as
    /// `{:binary, data}`, never as a map, so its params hold no `bot_id`: the recorded Clustaar
    /// server answers `missing bot_id`, whatever JSON the bytes may spell.
    private func validateJoin(_ payload: PhoenixPayload) -> Result<String, JoinRefusal> {
        guard case .json(let bytes) = payload else { return .failure(JoinRefusal(reason: "missing bot_id")) }
        guard let params = try? JSONValue.parse(bytes), params.objectValue != nil else {
            return .failure(JoinRefusal(reason: "join params must be an object"))
        }
        guard let botID = params["bot_id"]?.stringValue else { return .failure(JoinRefusal(reason: "missing bot_id")) }
        guard let token = params["socketToken"]?.stringValue else {
            return .failure(JoinRefusal(reason: "missing socketToken"))
        }
        guard token != "bad" else { return .failure(JoinRefusal(reason: "unauthorized")) }
        return .success(botID)
    }

    private mutating func leave(_ message: PhoenixMessage) -> [Action] {
        // A leave on a topic not joined still gets an ok reply (as recorded).
        var actions = [reply(to: message, status: "ok", SandboxBot.emptyResponse)]
        if let channel = channels.removeValue(forKey: message.topic) {
            actions.append(closeMessage(topic: message.topic, channel: channel))
            if case .room = channel.kind { actions.append(.room(.leave(topic: message.topic))) }
        }
        return actions
    }

    // MARK: Interlocutor messages

    private mutating func interlocutorReply(
        _ message: PhoenixMessage,
        on channel: Channel,
        interlocutorID: String,
        at now: Date,
        behavior: SandboxBehavior
    ) -> [Action] {
        if behavior.bot == .silent { return [] }
        let body: JSONObject
        let content: SandboxBot.InterlocutorMessage
        do {
            guard case .json(let bytes) = message.payload else {
                throw SandboxBot.InvalidPush(reason: "interlocutor_reply expects a JSON payload")
            }
            let payload = try JSONValue.parse(bytes)
            (body, content) = try SandboxBot.readInterlocutorReply(payload)
        } catch let error as SandboxBot.InvalidPush {
            return [reply(to: message, status: "error", ["reason": "bad request", "detail": .string(error.reason)])]
        } catch {
            return [reply(to: message, status: "error", ["reason": "bad request", "detail": "invalid JSON payload"])]
        }
        var command: SandboxBot.Command?
        if case .text(let text) = content { command = SandboxBot.Command(text: text) }

        switch command {
        case .noReply: return []
        case .error: return [reply(to: message, status: "error", SandboxBot.errorResponse(reason: "bad request"))]
        case .crash:
            channels[message.topic] = nil
            return [errorMessage(topic: message.topic, channel: channel)]
        case .kick:
            channels[message.topic] = nil
            return [
                reply(to: message, status: "ok", SandboxBot.emptyResponse),
                closeMessage(topic: message.topic, channel: channel),
            ]
        default: break
        }

        var actions: [Action] = [
            reply(to: message, status: "ok", SandboxBot.emptyResponse),
            push("interlocutor_reply", SandboxBot.echo(of: body, at: now), on: channel, topic: message.topic),
        ]
        switch command {
        case .drop:
            actions.append(.close(code: 1000, reason: ""))
            return actions
        case .binary:
            actions.append(
                .send(
                    PhoenixMessage(
                        joinRef: channel.joinRef, ref: nil, topic: message.topic, event: "binary_event",
                        payload: .binary(ArraySlice(SandboxBot.binaryEventPayload)))))
            return actions
        default: break
        }
        if behavior.bot == .acknowledgingOnly { return actions }

        func botReply(_ payload: JSONValue) -> Action {
            push("bot_reply", payload, on: channel, topic: message.topic)
        }
        switch (command, content) {
        case (.takeControl, _):
            control.set(interlocutorID: interlocutorID, taken: true)
            actions.append(push("control", SandboxBot.control(true, at: now), on: channel, topic: message.topic))
            actions.append(
                push("agent_reply", SandboxBot.agentReply(SandboxBot.agentGreeting), on: channel, topic: message.topic))
        case (.releaseControl, _):
            control.set(interlocutorID: interlocutorID, taken: false)
            actions.append(push("control", SandboxBot.control(false, at: now), on: channel, topic: message.topic))
            actions.append(
                botReply(SandboxBot.textReply(SandboxBot.botIsBack, input: body, interlocutorID: interlocutorID)))
        case (_, .text(let text)) where control.isTaken(interlocutorID: interlocutorID):
            actions.append(
                push(
                    "agent_reply", SandboxBot.agentReply(SandboxBot.agentAnswer(to: text)), on: channel,
                    topic: message.topic))
        case (.rich, _):
            actions.append(
                botReply(
                    SandboxBot.botReply(
                        actions: SandboxBot.richActions(), input: body, interlocutorID: interlocutorID)))
        default:
            let text = SandboxBot.echoText(for: content)
            actions.append(botReply(SandboxBot.textReply(text, input: body, interlocutorID: interlocutorID)))
        }
        return actions
    }

    // MARK: Building messages

    /// A reply to `message`: same join_ref, ref and topic.
    private func reply(to message: PhoenixMessage, status: String, _ response: JSONValue) -> Action {
        reply(to: message, status: status, .json(ArraySlice(response.encoded)))
    }

    private func reply(to message: PhoenixMessage, status: String, _ response: PhoenixPayload) -> Action {
        .send(
            .reply(joinRef: message.joinRef, ref: message.ref, topic: message.topic, status: status, response: response)
        )
    }

    /// The error reply to a push on a topic nobody joined: join_ref null, as recorded.
    private func unmatchedTopic(_ message: PhoenixMessage) -> Action {
        .send(
            .reply(
                joinRef: nil, ref: message.ref, topic: message.topic, status: "error",
                response: .json(ArraySlice(SandboxBot.errorResponse(reason: "unmatched topic").encoded))))
    }

    /// A server push on a joined channel: the channel's join_ref, a null ref.
    private func push(_ event: String, _ payload: JSONValue, on channel: Channel, topic: String) -> Action {
        .send(
            PhoenixMessage(
                joinRef: channel.joinRef, ref: nil, topic: topic, event: event,
                payload: .json(ArraySlice(payload.encoded))))
    }

    /// The `control` push an agent's take or release sends to this session's channel of
    /// `interlocutorID`, with its join_ref; nil when that channel is not joined here.
    public func controlPush(interlocutorID: String, taken: Bool, at now: Date) -> PhoenixMessage? {
        let topic = "interlocutor:\(interlocutorID)"
        guard let channel = channels[topic],
            case .send(let message) = push(
                "control", SandboxBot.control(taken, at: now), on: channel, topic: topic)
        else { return nil }
        return message
    }

    /// The channel on `topic` crashed (e.g. it pushed what the serializer cannot carry): it is
    /// no longer joined. Returns the `phx_error` to send, or nil if the topic was not joined.
    mutating func channelCrashed(topic: String) -> PhoenixMessage? {
        guard let channel = channels.removeValue(forKey: topic) else { return nil }
        guard case .send(let message) = errorMessage(topic: topic, channel: channel) else { return nil }
        return message
    }

    /// `phx_error` for a crashed channel: like `phx_close`, its ref is the join_ref (as recorded).
    private func errorMessage(topic: String, channel: Channel) -> Action {
        .send(
            PhoenixMessage(
                joinRef: channel.joinRef, ref: channel.joinRef, topic: topic, event: PhoenixEvent.error,
                payload: .emptyObject))
    }

    /// `phx_close` for a channel the server ends: its ref is the join_ref, as recorded.
    private func closeMessage(topic: String, channel: Channel) -> Action {
        .send(
            PhoenixMessage(
                joinRef: channel.joinRef, ref: channel.joinRef, topic: topic, event: PhoenixEvent.close,
                payload: .emptyObject))
    }
}
