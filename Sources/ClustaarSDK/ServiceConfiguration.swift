import Logging
import PhoenixClient
import PhoenixProtocol

extension ClustaarWebChatService {
    /// How a service connects and behaves. Every field has a sensible default.
    public struct Configuration: Sendable {
        /// The wire format. Default JSON v2, as the Clustaar JS SDK.
        public var serializer: PhoenixSerializer = .jsonV2
        /// Time between heartbeats; a heartbeat unanswered when the next is due reconnects.
        public var heartbeatInterval: Duration = .seconds(30)
        /// How long `join()` waits for the server.
        public var joinTimeout: Duration = .seconds(10)
        /// How long `sendReply` waits for the server's acknowledgement (time spent waiting for
        /// the channel to rejoin included).
        public var pushTimeout: Duration = .seconds(10)
        /// Messages that may wait for a channel to (re)join; one more fails with `bufferFull`.
        public var pushBufferLimit: Int = 100
        /// When and how often a dropped socket reconnects.
        public var reconnectPolicy: PhoenixReconnectPolicy = .default
        /// Delays before rejoining a channel after a server-side crash.
        public var rejoinDelays: [Duration] = PhoenixSocketConfiguration.referenceRejoinDelays
        /// What a rejected join does. Default: report it and stop.
        public var joinErrorPolicy: PhoenixJoinErrorPolicy = .stop
        /// Extra query parameters of the socket URL (before `vsn`).
        public var params: [PhoenixURLParameter] = []
        /// A Phoenix 1.8 auth token, sent as WebSocket subprotocols (never in the URL).
        public var authToken: String?
        /// Extra HTTP headers of the WebSocket upgrade (servers see only `x-` headers).
        public var headers: [HTTPHeader] = []
        /// Message size limits, buffers. A push or join whose encoded frame is over
        /// `maxMessageSize` is not sent: it fails at once with `ClustaarError.tooLarge(size:limit:)`,
        /// and the connection goes on.
        public var limits: WebSocketLimits = .init()
        /// Connect, handshake and close timeouts of the transport.
        public var timeouts: WebSocketTimeouts = .init()
        /// TLS for `wss://` (verification on by default).
        public var tls: TLSOptions = .init()
        /// Where the service logs. Tokens are never logged.
        public var logger: Logger = Logger(label: "clustaar.sdk")

        /// The defaults: JSON v2, 30 s heartbeats, 10 s join and push timeouts, the reference
        /// reconnect and rejoin schedules, TLS verification on.
        public init() {}

        /// The socket's configuration: the same settings, and one channel object per
        /// interlocutor (a second join of a topic is refused, not a replacement).
        var socketConfiguration: PhoenixSocket.Configuration {
            var socket = PhoenixSocket.Configuration()
            socket.serializer = serializer
            socket.heartbeatInterval = heartbeatInterval
            socket.joinTimeout = joinTimeout
            socket.pushTimeout = pushTimeout
            socket.pushBufferLimit = pushBufferLimit
            socket.reconnectPolicy = reconnectPolicy
            socket.rejoinDelays = rejoinDelays
            socket.joinErrorPolicy = joinErrorPolicy
            socket.duplicateJoins = .refuse
            socket.params = params
            socket.authToken = authToken
            socket.headers = headers
            socket.limits = limits
            socket.timeouts = timeouts
            socket.tls = tls
            socket.logger = logger
            return socket
        }
    }
}
