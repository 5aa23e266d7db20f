import ClustaarModels
import PhoenixClient
import PhoenixProtocol
import TransportCore

/// The channel of one interlocutor: join it, send what the user says or clicks, and read the
/// bot's and agents' replies.
///
/// Streams (`events`, `botReplies`, `agentReplies`, `interlocutorReplies`, `controlChanges`,
/// `joinStatuses`, `errors`) may be read by any number of tasks; each access is a new
/// subscription that sees the events from then on. They end when the channel ends (left, closed
/// by the server, rejected, or the service disconnected). A payload that fails to decode is
/// reported on `errors`; the other streams go on.
///
/// Once joined, the channel rejoins by itself after every drop, crash or server restart.
/// `events` tells each step (`.errored`, `.rejected`, `.joined(_, isRejoin: true)`), and since
/// the rejoin's reply is where the app learns whether an agent took (or gave back) the
/// conversation meanwhile, a rejoin whose `control` differs from the last one told is also a
/// `controlChanges` element: an app that only watches `controlChanges` stays right.
public final class InterlocutorChannel: Sendable {
    /// Where the join params come from.
    enum Params: Sendable {
        case fixed(JoinParams)
        case provided(@Sendable () async throws -> JoinParams)
    }

    /// `interlocutor:<interlocutorID>`.
    public let topic: String
    /// The interlocutor (the end user) this channel is the conversation of.
    public let interlocutorID: String
    private let sink = ChannelSink()
    private let phoenixChannel: PhoenixChannel

    init(service: ClustaarWebChatService, interlocutorID: String, params: Params) {
        self.interlocutorID = interlocutorID
        let topic = "interlocutor:\(interlocutorID)"
        self.topic = topic
        let phoenixParams: PhoenixChannel.Params
        switch params {
        case .fixed(let joinParams):
            do {
                phoenixParams = .fixed(try Self.payload(joinParams))
            } catch {
                phoenixParams = .provided { throw error }  // reported by `join()`
            }
        case .provided(let provider):
            phoenixParams = .provided { try Self.payload(try await provider()) }
        }
        phoenixChannel = service.socket.channel(topic, params: phoenixParams, observer: sink)
    }

    /// Joins the channel and returns the server's join status (`control`: whether a human agent
    /// holds the conversation). If the socket is not open yet, the join waits for it (within the
    /// join timeout).
    ///
    /// - Throws: `.joinRejected(reason:)` (e.g. `{"reason":"unauthorized"}`), `.joinTimedOut`
    ///   (the channel is then left), `.alreadyJoined` (this interlocutor is joined through another
    ///   channel object, or this one is joined already), `.cancelled` (task cancelled, or the
    ///   service disconnected).
    @discardableResult
    public func join() async throws(ClustaarError) -> JoinStatus {
        let response: PhoenixPayload
        do {
            response = try await phoenixChannel.join()
        } catch {
            throw .joining(error)
        }
        do {
            return try ClustaarJSON.decode(JoinStatus.self, from: response.bytes)
        } catch {
            throw .encoding("the join reply cannot be read: \(error)")
        }
    }

    /// Leaves the channel. Returns once the server confirmed (or the leave timed out); pending
    /// `sendReply` calls fail with `.cancelled`, and the streams end.
    public func leave() async {
        await phoenixChannel.leave()
    }

    /// Whether the channel is joined now.
    public var isJoined: Bool {
        get async {
            await phoenixChannel.isJoined
        }
    }

    /// Sends what the user said or did, and returns once the server acknowledged it.
    ///
    /// Made while the channel is (re)joining, the message waits (bounded) and goes out once
    /// joined. It is sent at most once: if the connection drops before the acknowledgement, the
    /// call throws `.outcomeUnknown` (with the cause) and nothing is re-sent.
    ///
    /// - Parameters:
    ///   - token: the bot's access token (not the socket token).
    ///   - body: `.text("Hello")`, `.customEvent(name:)`, a button's `.goTo(...)`...
    ///   - debug: ask the bot to attach its debug block to the reply.
    ///   - display: whether the message shows in the conversation (default: the body's usual).
    ///   - channel: the `params.channel` value (default `clustaar_web_chat`).
    /// - Returns: the acknowledgement's response (usually `{}`).
    /// - Throws: `.replyRejected`, `.replyTimedOut`, `.outcomeUnknown`, `.notJoined`,
    ///   `.bufferFull`, `.cancelled`.
    @discardableResult
    public func sendReply(
        token: String,
        _ body: InterlocutorReplyBody,
        debug: Bool = false,
        display: Bool? = nil,
        channel: String? = InterlocutorReplyParams.webChatChannel
    ) async throws(ClustaarError) -> JSONValue {
        let reply = InterlocutorReply(
            token: token,
            params: InterlocutorReplyParams(
                debug: debug, display: display ?? body.isDisplayedByDefault, channel: channel),
            body: body)
        let payload = try Self.payload(reply)
        do {
            return ClustaarError.json(try await phoenixChannel.push(ClustaarEvent.interlocutorReply, payload))
        } catch {
            throw .pushing(error)
        }
    }

    /// The bot's replies, in order.
    public var botReplies: AsyncStream<BotReply> { sink.botReplies }
    /// Messages typed by human agents.
    public var agentReplies: AsyncStream<AgentReply> { sink.agentReplies }
    /// What the interlocutor said, as echoed by the server (e.g. from another tab).
    public var interlocutorReplies: AsyncStream<InterlocutorReplyBody> { sink.interlocutorReplies }
    /// An agent took control (`control == true`) or gave it back to the bot: every `control`
    /// event, and every rejoin whose `control` differs from the last one told (by the first
    /// join, a `control` event or an earlier rejoin). A change learnt from a rejoin has no `at`
    /// (nil): the join reply does not say when it happened, and "now" would be wrong.
    public var controlChanges: AsyncStream<ControlChange> { sink.controlChanges }
    /// The status of every successful join: the first one (the value `join()` returns) and
    /// every rejoin after a drop, a crash or a server restart. Subscribe before `join()` to see
    /// the first.
    public var joinStatuses: AsyncStream<JoinStatus> { sink.joinStatuses }
    /// Whether a human agent holds the conversation, as last told by the server (a join, a
    /// rejoin or a `control` event); nil before the first join of the channel's current life.
    public var control: Bool? { sink.control }
    /// Events that could not be decoded, and errors the server sent in place of an event.
    public var errors: AsyncStream<ChannelEventError> { sink.errors }
    /// Every event of the streams above in one stream, in the order the server sent them, with
    /// the channel's life in the same order (joined, errored, rejected, closed): use it when the
    /// order across kinds matters (a transcript, a chat view). Each access is a new subscription
    /// that sees what arrives from then on; it ends after `.closed`.
    public var events: AsyncStream<ChannelEvent> { sink.events }

    private static func payload(_ value: some Encodable) throws(ClustaarError) -> PhoenixPayload {
        do {
            return .json(ArraySlice(try ClustaarJSON.encode(value)))
        } catch {
            throw .encoding("\(error)")
        }
    }
}
