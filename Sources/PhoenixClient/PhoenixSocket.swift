import Foundation
import Logging
import PhoenixProtocol
import TransportCore

/// A connection to a Phoenix server: one WebSocket, its heartbeats and reconnects, and the
/// channels joined over it.
///
/// ```swift
/// let socket = try PhoenixSocket(endpoint: URL(string: "wss://example.com/socket")!, transport: LWSTransport())
/// try await socket.connect()
/// let room = socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
/// let reply = try await room.join()
/// ```
///
/// No globals: each socket owns its connection; several may live in one process. Call
/// `disconnect()` when done; the socket also disconnects when it is released.
public final class PhoenixSocket: Sendable {
    /// The endpoint, e.g. `wss://host/socket` (`/websocket` and `vsn` are appended).
    public let endpoint: URL
    /// How the socket connects and behaves.
    public let configuration: Configuration
    let core: PhoenixSocketCore

    /// Makes a socket; nothing connects until `connect()`.
    ///
    /// - Parameters:
    ///   - endpoint: the endpoint (`ws`, `wss`, `http` or `https`).
    ///   - transport: the WebSocket implementation (`LWSTransport`, `POSIXTransport`, or
    ///     `InMemoryTransport` in tests).
    ///   - configuration: serializer, timeouts, policies...
    ///   - clock: the clock of heartbeats and timeouts; tests pass a `ManualClock`.
    /// - Throws: `.invalidConfiguration` when the endpoint is not usable.
    public init<C: Clock>(
        endpoint: URL,
        transport: any Transport,
        configuration: Configuration = Configuration(),
        clock: C = ContinuousClock()
    ) throws(PhoenixClientError) where C.Duration == Duration {
        self.endpoint = endpoint
        self.configuration = configuration
        core = try PhoenixSocketCore(
            endpoint: endpoint, transport: transport, configuration: configuration, time: TimeSource(clock))
    }

    deinit {
        let core = core
        Task { await core.shutdown() }
    }

    /// Connects the socket. Returns once it is open.
    ///
    /// If this first attempt fails, it throws and the socket stays disconnected (call it again to
    /// retry). Once open, drops are reconnected by the reconnect policy and every joined channel
    /// rejoins by itself; `connectionStates` and each channel's `events` tell what happens.
    ///
    /// - Throws: `.transport` when the connection could not be made, `.cancelled(.disconnected)`
    ///   when `disconnect()` was called meanwhile, `.notConnected` when the reconnect policy gave up.
    public func connect() async throws(PhoenixClientError) {
        try await core.connect()
    }

    /// Closes the socket and every channel (their pending calls fail with
    /// `.cancelled(.disconnected)`). Returns once the connection is closed.
    public func disconnect() async {
        await core.disconnect()
    }

    /// Skips the wait before the next reconnect attempt.
    public func reconnectNow() async {
        await core.reconnectNow()
    }

    /// Whether the socket is open now.
    public var isConnected: Bool {
        get async { await core.isConnected }
    }

    /// Pushes not completed yet, on every channel (buffered or waiting for their reply).
    package var pendingPushCount: Int {
        get async { await core.pendingPushCount }
    }

    /// The socket's state changes from now on: connecting, open, closed, errors, reconnects.
    /// Each access is a new subscription; any number may run at once.
    public var connectionStates: AsyncStream<PhoenixConnectionState> { core.states.subscribe() }

    /// Calls `body` with every state change from now on, on the socket's actor, in order with
    /// the channel observers' events (a `connectionStates` stream is read by another task, so a
    /// printer that mixes the two can print `joined` before `open`). `body` must not block.
    package func observeConnectionStates(_ body: @escaping @Sendable (PhoenixConnectionState) -> Void) {
        core.states.tap(body)
    }

    /// Frames from the server that were not Phoenix messages, each with the reason. Each was
    /// dropped; the socket and its channels go on.
    public var droppedFrames: AsyncStream<PhoenixCodingError> { core.droppedFrames.subscribe() }

    /// A channel for `topic` joined with `params` (JSON). Nothing is sent until `join()`.
    public func channel(_ topic: String, params: PhoenixPayload = .emptyObject) -> PhoenixChannel {
        PhoenixChannel(socket: self, topic: topic, params: .fixed(params), observer: nil)
    }

    /// A channel for `topic` joined with `params` encoded as JSON.
    ///
    /// - Throws: `.unencodable` when `params` does not encode.
    public func channel(
        _ topic: String,
        params: some Encodable,
        encoder: JSONEncoder = JSONEncoder()
    ) throws(PhoenixClientError) -> PhoenixChannel {
        channel(topic, params: try PhoenixCoding.encode(params, using: encoder))
    }

    /// A channel for `topic` whose join params are asked of `params` before the first join and
    /// before every rejoin (e.g. a short-lived token).
    public func channel(
        _ topic: String,
        params: @escaping @Sendable () async throws -> PhoenixPayload
    ) -> PhoenixChannel {
        PhoenixChannel(socket: self, topic: topic, params: .provided(params), observer: nil)
    }

    /// For the layer above (ClustaarSDK): a channel whose events also go to `observer`, in order,
    /// as they are produced.
    package func channel(
        _ topic: String,
        params: PhoenixChannel.Params,
        observer: any PhoenixChannelObserver
    ) -> PhoenixChannel {
        PhoenixChannel(socket: self, topic: topic, params: params, observer: observer)
    }
}

extension PhoenixSocket {
    /// How a socket connects and behaves. Every field has a sensible default.
    public struct Configuration: Sendable {
        /// The wire format. Default JSON v2 (binary payloads go in binary frames).
        public var serializer: PhoenixSerializer = .jsonV2
        /// Time between heartbeats; a heartbeat unanswered when the next is due reconnects.
        public var heartbeatInterval: Duration = .seconds(30)
        /// How long a join waits for the server.
        public var joinTimeout: Duration = .seconds(10)
        /// How long a push waits for its reply (time spent waiting for the channel to join
        /// included).
        public var pushTimeout: Duration = .seconds(10)
        /// Pushes that may wait for a channel to (re)join; one more fails with `.bufferFull`.
        public var pushBufferLimit: Int = 100
        /// When and how often a dropped socket reconnects.
        public var reconnectPolicy: PhoenixReconnectPolicy = .default
        /// Delays before rejoining a channel after a crash (`phx_error`) or a rejoin timeout.
        public var rejoinDelays: [Duration] = PhoenixSocketConfiguration.referenceRejoinDelays
        /// What a refused join does. Default: report it and stop.
        public var joinErrorPolicy: PhoenixJoinErrorPolicy = .stop
        /// What joining a topic that another channel object holds does.
        public var duplicateJoins: DuplicateJoins = .replace
        /// Extra query parameters of the socket URL (before `vsn`).
        public var params: [PhoenixURLParameter] = []
        /// A Phoenix 1.8 auth token, sent as WebSocket subprotocols (never in the URL).
        public var authToken: String?
        /// Extra HTTP headers of the WebSocket upgrade.
        public var headers: [HTTPHeader] = []
        /// Message size limits, buffers. A push or join whose encoded frame is over
        /// `maxMessageSize` is not sent: it fails at once with `PhoenixClientError.tooLarge(size:limit:)`,
        /// and the connection goes on.
        public var limits: WebSocketLimits = .init()
        /// Connect, handshake and close timeouts of the transport.
        public var timeouts: WebSocketTimeouts = .init()
        /// TLS for `wss://` (verification on by default).
        public var tls: TLSOptions = .init()
        /// Where the socket logs. Params and tokens are never logged.
        public var logger: Logger = Logger(label: "phoenix.client")

        /// The defaults: JSON v2, 30 s heartbeats, 10 s join and push timeouts, the reference
        /// reconnect and rejoin schedules, TLS verification on.
        public init() {}

        /// What `join()` does when another channel object holds its topic.
        public enum DuplicateJoins: Sendable, Hashable {
            /// Leave the other channel (it ends with `.closed(.replaced)`), then join: as
            /// phoenix.js does.
            case replace
            /// Throw `.alreadyJoined`.
            case refuse
        }
    }
}
