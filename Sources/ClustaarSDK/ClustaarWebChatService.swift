import ClustaarModels
import Foundation
import PhoenixClient
import PhoenixProtocol
import TransportCore

/// A connection to a Clustaar webchat server: one Phoenix socket and its interlocutor channels.
///
/// ```swift
/// let service = try ClustaarWebChatService(
///     environment: URL(string: "wss://sockets.example.com/socket")!,
///     transport: LWSTransport())
/// try await service.connect()
/// let channel = service.interlocutorChannel(botID: botID, interlocutorID: userID, socketToken: token)
/// let status = try await channel.join()
/// for await reply in channel.botReplies { ... }
/// try await channel.sendReply(token: botToken, .text("Hello"))
/// ```
///
/// No globals: each service owns its socket, and several may live in one process. Call
/// `disconnect()` when done; the service also disconnects when it is released.
public final class ClustaarWebChatService: Sendable {
    /// The socket endpoint, e.g. `wss://host/socket` (`/websocket` and `vsn` are appended).
    public let environment: URL
    /// The Phoenix socket underneath: an app may join channels of its own on it.
    public let socket: PhoenixSocket

    /// Makes a service; nothing connects until `connect()`.
    ///
    /// - Parameters:
    ///   - environment: the endpoint (`ws`, `wss`, `http` or `https`).
    ///   - transport: the WebSocket implementation: `LWSTransport` (TransportLWS, `wss://`),
    ///     `POSIXTransport` (TransportPOSIX, pure Swift, `ws://`), or `InMemoryTransport` in tests.
    ///   - configuration: serializer, timeouts, reconnect policy...
    ///   - clock: the clock of heartbeats and timeouts; tests pass a `ManualClock`.
    /// - Throws: `ClustaarError.invalidConfiguration` when the endpoint is not usable.
    public init<C: Clock>(
        environment: URL,
        transport: any Transport,
        configuration: Configuration = Configuration(),
        clock: C = ContinuousClock()
    ) throws(ClustaarError) where C.Duration == Duration {
        self.environment = environment
        do {
            socket = try PhoenixSocket(
                endpoint: environment, transport: transport, configuration: configuration.socketConfiguration,
                clock: clock)
        } catch {
            throw .connecting(error)
        }
    }

    /// Connects the socket. Returns once it is open.
    ///
    /// If this first attempt fails, it throws and the service stays disconnected (call it again
    /// to retry). Once open, drops are reconnected by the reconnect policy, and every joined
    /// channel rejoins by itself; `connectionStates` tells what happens.
    ///
    /// - Throws: `.transport` when the connection could not be made, `.cancelled` when
    ///   `disconnect()` was called meanwhile.
    public func connect() async throws(ClustaarError) {
        do {
            try await socket.connect()
        } catch {
            throw .connecting(error)
        }
    }

    /// Closes the socket and every channel (their pending replies fail with `.cancelled`).
    /// Returns once the connection is closed.
    public func disconnect() async {
        await socket.disconnect()
    }

    /// Skips the wait before the next reconnect attempt.
    public func reconnectNow() async {
        await socket.reconnectNow()
    }

    /// Whether the socket is open now.
    public var isConnected: Bool {
        get async { await socket.isConnected }
    }

    /// The socket's state changes from now on: connecting, open, closed, errors, reconnects.
    /// Each access is a new subscription; any number may run at once.
    public var connectionStates: AsyncStream<ConnectionState> { socket.connectionStates }

    /// Frames from the server that were not Phoenix messages (malformed JSON, binary lengths past
    /// the end...), each with the reason. Each was dropped; the socket and its channels go on.
    /// Payloads of Clustaar events that do not decode go to each channel's `errors` instead.
    public var droppedFrames: AsyncStream<PhoenixCodingError> { socket.droppedFrames }

    /// The channel of one interlocutor (topic `interlocutor:<interlocutorID>`). Nothing is sent
    /// until `join()`.
    ///
    /// - Parameters:
    ///   - botID: the bot's id (`bot_id` in the join params).
    ///   - interlocutorID: the Clustaar interlocutor id.
    ///   - socketToken: the interlocutor's socket token (`socketToken`).
    ///   - origin: the page URL the chat runs on, if any.
    ///   - isLogged: whether the end user is logged in, if known.
    public func interlocutorChannel(
        botID: String,
        interlocutorID: String,
        socketToken: String,
        origin: String? = nil,
        isLogged: Bool? = nil
    ) -> InterlocutorChannel {
        InterlocutorChannel(
            service: self, interlocutorID: interlocutorID,
            params: .fixed(JoinParams(botID: botID, socketToken: socketToken, origin: origin, isLogged: isLogged)))
    }

    /// The channel of one interlocutor whose join params (e.g. a short-lived socket token) are
    /// fetched again before every rejoin. `params` is called before the first join too.
    public func interlocutorChannel(
        interlocutorID: String,
        params: @escaping @Sendable () async throws -> JoinParams
    ) -> InterlocutorChannel {
        InterlocutorChannel(service: self, interlocutorID: interlocutorID, params: .provided(params))
    }
}
