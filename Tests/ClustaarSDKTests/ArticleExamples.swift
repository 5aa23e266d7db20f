// The Swift blocks of the DocC articles (Sources/*/Documentation.docc/*.md), verbatim, so that
// they compile with the tests (`ArticleTests` checks that each block still appears here
// unchanged). The blocks that are tests run with the others.
// swift-format-ignore-file
import Foundation

// MARK: ClustaarSDK/Documentation.docc/GettingStarted.md

import ClustaarSDK
import TransportLWS

func makeService() throws -> ClustaarWebChatService {
    var configuration = ClustaarWebChatService.Configuration()
    configuration.pushTimeout = .seconds(15)
    return try ClustaarWebChatService(
        environment: URL(string: "wss://sockets.example.com/socket")!,
        transport: LWSTransport(),
        configuration: configuration)
}

func openConversation(
    service: ClustaarWebChatService, interlocutorID: String, socketToken: String
) async throws -> InterlocutorChannel {
    try await service.connect()
    let channel = service.interlocutorChannel(
        botID: "my-bot", interlocutorID: interlocutorID, socketToken: socketToken)
    let status = try await channel.join()
    print(status.control ? "a human agent holds the conversation" : "the bot answers")
    return channel
}

func show(_ channel: InterlocutorChannel) async {
    for await event in channel.events {
        switch event {
        case .botReply(let reply):
            for case .text(let text) in reply.actions { print("bot:", text.displayText ?? "") }
        case .agentReply(let reply):
            print("agent:", reply.message)  // may hold HTML: sanitize before rendering
        case .interlocutorReply(let body):
            print("you, from another device:", body)
        case .controlChanged(let change):
            print(change.control ? "an agent took control" : "the bot is back")
        case .error(let error):
            print("an event could not be read:", error)
        case .joined(let status, let isRejoin):
            if isRejoin { print(status.control ? "(rejoined: an agent holds it)" : "(rejoined: the bot answers)") }
        case .errored(let cause):
            print("(rejoining: \(cause))")
        case .rejected, .closed:
            break  // `join()` throws the refusal; the stream ends after `.closed`
        }
    }
}

func say(_ text: String, on channel: InterlocutorChannel, botToken: String) async {
    do {
        try await channel.sendReply(token: botToken, .text(text))
    } catch {
        print("not acknowledged:", error)
    }
}

func endConversation(_ channel: InterlocutorChannel, on service: ClustaarWebChatService) async {
    await channel.leave()
    await service.disconnect()
}

// MARK: ClustaarSDK/Documentation.docc/DeliveryGuarantees.md

/// What the app shows beside a message the user sent.
enum DeliveryMark: Sendable, Equatable {
    case delivered
    case rejected(String)
    case unknown  // offer "send again": the bot may have seen it
    case notSent  // safe to send again
}

func deliver(_ text: String, on channel: InterlocutorChannel, botToken: String) async -> DeliveryMark {
    do throws(ClustaarError) {
        try await channel.sendReply(token: botToken, .text(text))
        return .delivered
    } catch {
        switch error {
        case .replyRejected(let status, let response): return .rejected("\(status): \(response)")
        case .outcomeUnknown, .replyTimedOut, .cancelled: return .unknown
        case .bufferFull, .notJoined, .notConnected: return .notSent
        default: return .rejected("\(error)")
        }
    }
}

// MARK: ClustaarSDK/Documentation.docc/ReconnectsAndRejoins.md

import ClustaarSDK
import PhoenixProtocol
import TransportLWS

func makePatientService() throws -> ClustaarWebChatService {
    var configuration = ClustaarWebChatService.Configuration()
    configuration.reconnectPolicy = PhoenixReconnectPolicy(
        delays: [.seconds(1), .seconds(2), .seconds(5), .seconds(15)],
        jitter: 0.2,  // up to 20 % shorter or longer, so a fleet does not reconnect at once
        jitterSeed: UInt64.random(in: 0...UInt64.max),
        maxAttempts: 100,
        closeCodes: .allExcept([4001]))  // this server closes with 4001 when the user is banned
    configuration.rejoinDelays = [.seconds(1), .seconds(5)]
    configuration.joinErrorPolicy = .retry(times: 2, after: .seconds(3))
    return try ClustaarWebChatService(
        environment: URL(string: "wss://sockets.example.com/socket")!,
        transport: LWSTransport(),
        configuration: configuration)
}

func watchConnection(of service: ClustaarWebChatService) async {
    for await state in service.connectionStates {
        switch state {
        case .connecting: print("connecting")
        case .open: print("online")
        case .closed(let code, let reason): print("closed", code?.rawValue ?? 1006, reason)
        case .error(let error): print("connection error:", error)
        case .reconnecting(let attempt, let delay): print("reconnect \(attempt) in \(delay)")
        }
    }
}

func conversation(
    service: ClustaarWebChatService,
    interlocutorID: String,
    fetchSocketToken: @escaping @Sendable () async throws -> String
) -> InterlocutorChannel {
    service.interlocutorChannel(interlocutorID: interlocutorID) {
        JoinParams(botID: "my-bot", socketToken: try await fetchSocketToken())
    }
}

// MARK: ClustaarSDK/Documentation.docc/RenderingBotActions.md

/// One row of the app's chat view.
enum ChatRow: Sendable, Equatable {
    case text(String)
    case image(url: String, alt: String?)
    case buttons(message: String?, titles: [String])
    case typing(seconds: Double)
    case notice(String)
}

func rows(for reply: BotReply) -> [ChatRow] {
    reply.actions.compactMap { action -> ChatRow? in
        switch action {
        case .text(let text): return .text(text.displayText ?? "")
        case .image(let image): return .image(url: image.imageURL, alt: image.alt)
        case .quickReplies(let quick): return .buttons(message: quick.message, titles: quick.buttons.map(\.title))
        case .cards(let cards): return .buttons(message: nil, titles: cards.cards.flatMap { $0.buttons.map(\.title) })
        case .simpleCards(let cards):
            return .buttons(message: nil, titles: cards.cards.flatMap { $0.buttons.map(\.title) })
        case .choicesList(let list):
            return .buttons(message: list.message ?? list.placeholder, titles: list.sections.flatMap { $0.choices.map(\.title) })
        case .wait(let wait): return .typing(seconds: wait.duration)
        case .askLocation(let ask): return .text(ask.message)
        case .jsEvent: return nil  // handled by the host app, see below
        case .pauseBot: return .notice("an agent will answer")
        case .customerSatisfaction(let survey): return .buttons(message: survey.message, titles: survey.choices.map(\.label))
        case .askDocument(let ask): return .text(ask.message)
        case .unknown: return nil  // newer than this SDK
        }
    }
}

/// What pressing a button does: a body to send, or a URL to open.
enum ButtonEffect: Sendable, Equatable {
    case send(InterlocutorReplyBody)
    case open(String)
    case none
}

func effect(of action: ButtonAction) -> ButtonEffect {
    switch action {
    case .goTo(let goTo): return .send(.goTo(goTo))
    case .openURL(let open): return .open(open.url)  // nothing is sent
    case .legacyReply(let reply): return .send(.text(reply.message))
    case .satisfactionCallback(let callback):
        return callback.target.map { .send(.goTo(GoToAction(target: $0))) } ?? .none
    case .share, .unknown: return .none
    }
}

// MARK: ClustaarSDK/Documentation.docc/TestingYourApp.md

import ClustaarSDK
import ClustaarTestSupport
import Testing

@Test func theChannelRejoinsAfterADrop() async throws {
    let transport = InMemoryTransport()
    let server = ScriptedPhoenixServer(transport: transport)
    let service = try ClustaarWebChatService(
        environment: URL(string: "ws://test/socket")!, transport: transport, clock: ManualClock())
    var states = service.connectionStates.makeAsyncIterator()
    try await service.connect()

    let channel = service.interlocutorChannel(botID: "b", interlocutorID: "42", socketToken: "t")
    let joining = Task { try await channel.join() }
    let firstJoin = try await server.nextMessage()  // the client's phx_join
    try server.reply(to: firstJoin, response: #"{"control":false}"#)
    _ = try await joining.value

    server.drop()  // the connection is lost without a close frame
    while let state = await states.next() {
        if case .reconnecting = state { break }
    }
    await service.reconnectNow()  // or advance the clock past the reconnect delay

    let rejoin = try await server.nextMessage()
    #expect(rejoin.event == "phx_join" && rejoin.topic == "interlocutor:42")
    #expect(rejoin.joinRef != firstJoin.joinRef)
    await service.disconnect()
}

import ClustaarSandbox
import TransportPOSIX

@Test func theConversationSurvivesADroppedConnection() async throws {
    let sandbox = try await ClustaarSandboxServer.start(port: 0)
    let proxy = try await FaultProxy.start(upstreamPort: sandbox.port)
    let service = try ClustaarWebChatService(
        environment: proxy.url(for: sandbox.url), transport: POSIXTransport())
    var states = service.connectionStates.makeAsyncIterator()
    try await service.connect()
    let channel = service.interlocutorChannel(botID: "bot", interlocutorID: "alice", socketToken: "token")
    try await channel.join()

    await proxy.dropConnections()  // both ends see a TCP close, no WebSocket close frame
    var reconnected = false
    while !reconnected, let state = await states.next() {
        if case .reconnecting = state { reconnected = true }
    }
    var replies = channel.botReplies.makeAsyncIterator()
    try await channel.sendReply(token: "bot-token", .text("still there?"))  // waits for the rejoin
    let reply = try #require(await replies.next())
    guard case .text(let text) = reply.actions.first else { throw ExampleFailure.unexpected(reply) }
    #expect(text.displayText == "Echo: still there?")

    await service.disconnect()
    await proxy.shutdown()
    await sandbox.shutdown()
}

enum ExampleFailure: Error { case unexpected(BotReply) }

// MARK: PhoenixProtocol/Documentation.docc/SansIOStateMachine.md

import PhoenixProtocol

/// Runs a batch of actions: frames go to `outbox`, events to `events`.
func perform(_ actions: [PhoenixSocketAction], outbox: inout [PhoenixFrame], events: inout [PhoenixSocketEvent]) {
    for action in actions {
        switch action {
        case .openTransport(let url, _): print("open a WebSocket to", url)  // then report transportOpened
        case .send(let frame): outbox.append(frame)
        case .closeTransport(let code, _): print("close with", code)  // then report transportClosed
        case .emit(let event): events.append(event)
        case .completePush(let id, let result): print(id, "ended:", result)
        case .requestJoinParams(let topic): print("fresh params wanted for", topic)
        }
    }
}

func joinByHand() throws -> (events: [PhoenixSocketEvent], outbox: [PhoenixFrame]) {
    var machine = PhoenixSocketStateMachine(
        configuration: try PhoenixSocketConfiguration(endpoint: "wss://example.com/socket"))
    var outbox: [PhoenixFrame] = []
    var events: [PhoenixSocketEvent] = []
    let start = PhoenixInstant.zero

    perform(machine.connect(now: start), outbox: &outbox, events: &events)  // .openTransport
    perform(machine.transportOpened(now: start), outbox: &outbox, events: &events)  // .socketOpened
    perform(try machine.join(topic: "room:lobby", now: start), outbox: &outbox, events: &events)

    // The join is in the outbox: answer it as the server would.
    let join = try PhoenixSerializer.jsonV2.decode(outbox[0], from: .client)
    let reply = PhoenixMessage.reply(
        joinRef: join.joinRef, ref: join.ref, topic: join.topic, status: "ok", response: .emptyObject)
    let frame = try PhoenixSerializer.jsonV2.encode(reply, from: .server)
    perform(machine.frameReceived(frame, now: start), outbox: &outbox, events: &events)  // .channelJoined

    // Time is an input too: at the deadline (30 s later), a heartbeat goes out.
    if let deadline = machine.nextDeadline {
        perform(machine.timerFired(now: deadline), outbox: &outbox, events: &events)
    }
    return (events, outbox)
}

// MARK: TransportCore/Documentation.docc/WritingATransport.md

import Synchronization
import TransportCore
import TransportPOSIX

/// Counts sent messages, then hands them to the transport it wraps.
struct CountingTransport: Transport {
    let base: any Transport
    let counter = SentCounter()

    func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        try await base.withConnection(to: request) { connection in
            try await body(CountingConnection(base: connection, counter: counter))
        }
    }
}

struct CountingConnection: WebSocketConnection {
    let base: any WebSocketConnection
    let counter: SentCounter

    var subprotocol: String? { base.subprotocol }
    var inbound: WebSocketInbound { base.inbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try await base.send(message)
        counter.add()
    }

    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        guard try base.trySend(message) else { return false }
        counter.add()
        return true
    }

    func close(code: CloseCode, reason: String) async {
        await base.close(code: code, reason: reason)
    }
}

final class SentCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}

import Testing
import TransportConformance

@Suite(.serialized) struct CountingTransportConformanceTests {
    /// One loopback server for the whole test process; it exits with the process.
    static let server = Result { try LoopbackTestServer() }

    @Test(arguments: TransportConformance.scenarios(for: .all))
    func conforms(_ scenario: ConformanceScenario) async throws {
        let target = try Self.server.get().target(
            name: "CountingTransport", transport: CountingTransport(base: POSIXTransport()))
        try await scenario.run(on: target)
    }
}

// MARK: PhoenixClient/Documentation.docc/GettingStartedWithPhoenixChannels.md

import Foundation
import PhoenixClient
import TransportPOSIX

func makeSocket() throws -> PhoenixSocket {
    var configuration = PhoenixSocket.Configuration()
    configuration.params = [PhoenixURLParameter("client", "docs")]  // the server's connect/3 params
    configuration.pushTimeout = .seconds(5)
    return try PhoenixSocket(
        endpoint: URL(string: "ws://localhost:4000/socket")!,
        transport: POSIXTransport(),
        configuration: configuration)
}

func joinLobby(on socket: PhoenixSocket) async throws -> PhoenixChannel {
    try await socket.connect()
    let room = socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
    do throws(PhoenixClientError) {
        let reply = try await room.join()
        print("joined:", reply)
    } catch {
        if case .joinRejected(_, let response) = error { print("refused:", response) }
        throw error
    }
    return room
}

func follow(_ room: PhoenixChannel) async {
    for await event in room.events {
        switch event {
        case .message(let message):
            print(message.event, message.payload)
        case .joined(_, let isRejoin):
            print(isRejoin ? "rejoined: fetch what was missed meanwhile" : "joined")
        case .errored(let cause):
            print("interrupted (\(cause)); the channel rejoins by itself")
        case .rejected(let status, let response, let willRetry):
            print("join refused (\(status)):", response, willRetry ? "retrying" : "giving up")
        case .closed(let cause):
            print("ended:", cause)  // the stream ends after this event
        }
    }
}

struct NewPost: Encodable, Sendable {
    var body: String
}

struct PostReceipt: Decodable, Sendable {
    var id: Int
}

func post(_ body: String, to room: PhoenixChannel) async throws -> Int? {
    do throws(PhoenixClientError) {
        let receipt = try await room.push("new_post", encoding: NewPost(body: body), replyAs: PostReceipt.self)
        return receipt.id
    } catch {
        switch error {
        case .replyRejected(let status, let response): print("refused (\(status)):", response)
        case .outcomeUnknown(let cause): print("sent, but \(cause): the server may have it")
        default: print("not posted:", error)
        }
        return nil
    }
}

func leaveLobby(_ room: PhoenixChannel) async {
    await room.leave()
    await room.socket.disconnect()
}

import ClustaarTestSupport
import Testing

@Test func theLobbySeesItsJoinThenAMessageThenItsEnd() async throws {
    let transport = InMemoryTransport()
    let server = ScriptedPhoenixServer(transport: transport)
    let socket = try PhoenixSocket(
        endpoint: URL(string: "ws://test/socket")!, transport: transport, clock: ManualClock())
    try await socket.connect()
    let room = socket.channel("room:lobby")
    var events = room.events.makeAsyncIterator()

    let joining = Task { try await room.join() }
    let join = try await server.nextMessage()  // the client's phx_join
    try server.reply(to: join, response: #"{"online":2}"#)
    _ = try await joining.value
    try server.push(topic: "room:lobby", event: "new_post", payload: #"{"body":"hi"}"#, joinRef: join.joinRef)

    #expect(await events.next() == .joined(response: .json(#"{"online":2}"#), isRejoin: false))
    #expect(await events.next() == .message(PhoenixChannelMessage(event: "new_post", payload: .json(#"{"body":"hi"}"#))))
    await socket.disconnect()
    #expect(await events.next() == .closed(.disconnected))
    #expect(await events.next() == nil)
}
