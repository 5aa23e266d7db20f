// ClustaarSandbox: a local Clustaar-compatible Phoenix Channels server, for tests, the demo and
// `clustaar-sandbox`.
//
// Layers, each in its own file:
// - `SandboxSession` (pure): one socket's Phoenix logic, decoded messages in, messages out.
// - `SandboxRooms` (pure): the `room:*` channels' shared side: Phoenix.Presence and broadcasts
//   across every connection of a server.
// - `SandboxControl`: who holds each interlocutor's conversation, server-wide (as the real
//   service keeps it): joins on any connection reply it, it survives restarts.
// - `SandboxBot` (pure): every payload the sandbox writes, and what the bot answers.
// - `SandboxConnection` (pure): a session behind a serializer; frames in, frames out, idle timeout.
// - `SandboxEndpoint` (pure): which URLs upgrade, and with which serializer.
// - `ClustaarSandboxServer` + `SandboxWebSocketHandler`: the swift-nio server that runs them.
// Rules: the pure parts never read a clock or touch a socket (time is an input); no byte
// sequence from the network traps: bad frames get a typed error reply or a close code.
// Only this module, its executable and its tests depend on swift-nio.

/// Limits and timeouts of a sandbox server, fixed when it starts.
public struct SandboxConfiguration: Sendable, Hashable {
    /// Channels one socket may join (Phoenix's `max_channels_per_transport`, 100 by default).
    public var maxChannelsPerConnection: Int
    /// A socket that sends no frame for this long is closed with 1002, as Bandit does (60 s).
    public var idleTimeout: Duration
    /// The largest WebSocket message accepted, fragments joined (16 MiB).
    public var maxFrameSize: Int

    /// Phoenix's and Bandit's defaults unless told otherwise.
    public init(
        maxChannelsPerConnection: Int = 100,
        idleTimeout: Duration = .seconds(60),
        maxFrameSize: Int = 16 * 1024 * 1024
    ) {
        self.maxChannelsPerConnection = maxChannelsPerConnection
        self.idleTimeout = idleTimeout
        self.maxFrameSize = maxFrameSize
    }
}

/// How the sandbox behaves right now; tests change it while clients are connected.
public struct SandboxBehavior: Sendable, Hashable {
    /// How `interlocutor_reply` pushes are answered.
    public enum BotMode: Sendable, Hashable {
        /// Ack, echo, then the bot's (or agent's) answer.
        case answering
        /// Ack and echo only: the bot never answers.
        case acknowledgingOnly
        /// Nothing at all, not even the ack: the client's push times out.
        case silent
    }

    /// How `interlocutor_reply` pushes are answered (`.answering` by default).
    public var bot: BotMode
    /// When false, heartbeats get no reply (to test a client's heartbeat timeout).
    public var answersHeartbeats: Bool

    /// The normal behavior unless told otherwise: the bot answers, heartbeats are answered.
    public init(bot: BotMode = .answering, answersHeartbeats: Bool = true) {
        self.bot = bot
        self.answersHeartbeats = answersHeartbeats
    }
}
