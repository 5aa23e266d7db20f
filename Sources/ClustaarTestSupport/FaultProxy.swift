// FaultProxy: a loopback TCP proxy that tests put between a client and a server to break the
// link on purpose: stop, pause, delay, drop, cut a chunk in half, or black-hole it.
//
// Built on swift-nio rather than POSIX sockets and a thread: the package already depends on it
// (the sandbox), one event loop gives every connection, timer and control a single thread with no
// locks, and closing the listener and connections leaves no thread of ours behind (the loop
// comes from NIO's shared group). Layers:
// - `FaultProxy` (this file): the public controls; each returns once it is in effect.
// - `FaultProxyEngine`: the relay, confined to its event loop.
// - `FaultProxyFrameObserver` (pure): reads the WebSocket frames going through, for tests that
//   count what the client sent.
// - `FaultProxyRecorder`: the counters, read and awaited from any task.
// Rules: bytes are relayed unchanged and in order (only delayed, held, cut or swallowed as
// asked); nothing from the network can trap, and bytes it cannot parse are still relayed.
import Foundation
import NIOCore
import NIOPosix

/// A loopback TCP proxy that injects faults between a client and its server.
///
/// It listens on `host:port` (port 0 picks a free one) and relays every accepted connection to
/// `upstreamHost:upstreamPort`, byte for byte, until told otherwise:
///
/// ```swift
/// let sandbox = try await ClustaarSandboxServer.start(port: 0)
/// let proxy = try await FaultProxy.start(upstreamHost: "127.0.0.1", upstreamPort: sandbox.port)
/// let service = try ClustaarWebChatService(environment: proxy.url(for: sandbox.url), transport: transport)
/// ...
/// await proxy.dropConnections()          // the client sees its connection drop
/// await proxy.blackHole()                // a half-open link: nothing passes, nothing closes
/// await proxy.shutdown()
/// ```
///
/// Every control is async and returns once it is in effect for the bytes that arrive from then
/// on. `statistics` and `waitUntil(_:)` tell what went through, including the WebSocket frames
/// each side sent (payloads unmasked), so a test can await an event rather than a duration.
public final class FaultProxy: Sendable {
    /// A direction of a relayed connection.
    public enum Direction: Sendable, Hashable, CaseIterable {
        /// From the client (the accepted side) to the server (upstream).
        case clientToServer
        /// From the server back to the client.
        case serverToClient
    }

    /// Why the proxy cannot do what was asked.
    public struct ProxyError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What went wrong, in words.
        public var description: String
    }

    /// The host the proxy listens on.
    public let host: String
    /// Where every accepted connection is relayed.
    public let upstreamHost: String
    /// Where every accepted connection is relayed.
    public let upstreamPort: Int
    private let engine: FaultProxyEngine
    private let recorder: FaultProxyRecorder

    private init(host: String, upstreamHost: String, upstreamPort: Int, engine: FaultProxyEngine) {
        self.host = host
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.engine = engine
        self.recorder = engine.recorder
    }

    /// Starts a proxy listening on `host:port` that relays to `upstreamHost:upstreamPort`.
    ///
    /// - Parameters:
    ///   - upstreamHost: the server's address (default the IPv4 loopback).
    ///   - upstreamPort: the server's port.
    ///   - host: the address the proxy listens on (default the IPv4 loopback).
    ///   - port: 0 picks a free port; read it from `port`.
    ///   - eventLoopGroup: where the proxy runs (one loop of it); NIO's shared group by default.
    /// - Throws: the bind error when the port cannot be listened on.
    public static func start(
        upstreamHost: String = "127.0.0.1",
        upstreamPort: Int,
        host: String = "127.0.0.1",
        port: Int = 0,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws -> FaultProxy {
        let loop = (eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton).next()
        let engine = FaultProxyEngine(
            loop: loop, host: host, port: port, upstreamHost: upstreamHost, upstreamPort: upstreamPort)
        let proxy = FaultProxy(host: host, upstreamHost: upstreamHost, upstreamPort: upstreamPort, engine: engine)
        try await proxy.start()
        return proxy
    }

    /// The TCP port the proxy listens on (the same across `stop()`/`start()`).
    public var port: Int { recorder.port }

    /// `url` with its host and port replaced by the proxy's, e.g. the sandbox's
    /// `ws://127.0.0.1:4000/socket` becomes `ws://127.0.0.1:<proxy port>/socket`.
    public func url(for url: URL) -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        components.host = host
        components.port = port
        return components.url ?? url
    }

    /// Counters and the frames seen so far.
    public var statistics: Statistics { recorder.statistics }

    /// Returns the statistics as soon as `condition` holds for them (at once if it already
    /// does). A cancelled task gets the statistics of that moment.
    @discardableResult
    public func waitUntil(_ condition: @escaping @Sendable (Statistics) -> Bool) async -> Statistics {
        await recorder.waitUntil(condition)
    }

    /// Listens again (on the same port) after `stop()`. Does nothing if already listening.
    ///
    /// - Throws: `ProxyError` after `shutdown()`, or the bind error.
    public func start() async throws {
        try await engine.loop.flatSubmit { self.engine.startListening() }.get()
    }

    /// Stops accepting (new connections are refused) and closes every relayed connection on
    /// both sides. Returns once they are closed.
    public func stop() async {
        try? await engine.loop.flatSubmit { self.engine.stopListening() }.get()
    }

    /// Stops for good: like `stop()`, and later `start()` calls throw. Pending `waitUntil`
    /// calls return.
    public func shutdown() async {
        try? await engine.loop.flatSubmit { self.engine.shutdown() }.get()
        recorder.finish()
    }

    /// Holds the bytes of `directions` (both by default) in the proxy: sockets stay open, data
    /// is queued, nothing is lost. `resume` sends what was held, in order. A side that closes
    /// meanwhile has the other side closed once its held bytes are relayed.
    public func pause(_ directions: Set<Direction> = Set(Direction.allCases)) async {
        try? await engine.loop.submit { self.engine.pause(directions) }.get()
    }

    /// Relays `directions` again, held bytes first.
    public func resume(_ directions: Set<Direction> = Set(Direction.allCases)) async {
        try? await engine.loop.submit { self.engine.resume(directions) }.get()
    }

    /// Holds every chunk of `directions` for `delay` after it arrived before relaying it, in
    /// order. The delay in force when a chunk is due counts: bytes held already are re-timed, so
    /// a long delay then `.zero` releases what was held, at once.
    public func setDelay(_ delay: Duration, for directions: Set<Direction> = Set(Direction.allCases)) async {
        let amount = TimeAmount.nanoseconds(Self.nanoseconds(delay))
        try? await engine.loop.submit { self.engine.setDelay(amount, for: directions) }.get()
    }

    /// Closes every relayed connection on both sides at once, without any WebSocket close:
    /// a FIN, or with `reset` a TCP reset (RST). New connections are still accepted. Returns
    /// once they are closed.
    public func dropConnections(reset: Bool = false) async {
        try? await engine.loop.flatSubmit { self.engine.dropConnections(reset: reset) }.get()
    }

    /// The next chunk the server sends (on any connection) goes to the client only in part, and
    /// then that connection is closed on both sides: the client sees a frame cut in the middle.
    /// Chunks before it are relayed whole.
    ///
    /// - Parameter count: how many of its first bytes go through; nil (the default) for half
    ///   of it, at least one byte.
    public func cutNextServerChunk(keeping count: Int? = nil) async {
        try? await engine.loop.submit { self.engine.armCut(keeping: count) }.get()
    }

    /// A half-open link as the client sees it: every open connection, and every one accepted
    /// until `heal()`, swallows all bytes both ways and is never closed by the proxy (nor by
    /// the server: its close is swallowed too). A client that closes its end still has its
    /// upstream connection closed, so nothing is left behind.
    public func blackHole() async {
        try? await engine.loop.submit { self.engine.setBlackHoling(true) }.get()
    }

    /// New connections are relayed again. Connections black-holed already stay so (a half-open
    /// link never comes back); the client has to reconnect.
    public func heal() async {
        try? await engine.loop.submit { self.engine.setBlackHoling(false) }.get()
    }

    /// `duration` in nanoseconds, clamped to 0...one year so deadlines cannot overflow.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let year: Int64 = 365 * 86_400
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < year else { return year * 1_000_000_000 }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension FaultProxy {
    /// What went through the proxy since it started.
    public struct Statistics: Sendable, Hashable {
        /// Connections accepted from clients (refused ones while stopped not counted).
        public var connectionsAccepted = 0
        /// Relayed connections open now.
        public var openConnections = 0
        /// Accepted connections whose upstream connect failed (the client side is then closed).
        public var upstreamConnectFailures = 0
        /// Connections ended by `cutNextServerChunk()`.
        public var connectionsCut = 0
        /// Bytes read from clients.
        public var bytesFromClients = 0
        /// Bytes written to the server.
        public var bytesToServer = 0
        /// Bytes read from the server.
        public var bytesFromServer = 0
        /// Bytes written to clients.
        public var bytesToClients = 0
        /// Bytes swallowed by black-holed connections (either way).
        public var bytesSwallowed = 0
        /// The WebSocket frames read from either side, in the order they arrived (the latest
        /// `FaultProxy.Statistics.maxFrames` only).
        public var frames: [Frame] = []

        /// Frames kept in `frames`; older ones are dropped.
        public static let maxFrames = 10_000

        /// The frames the clients sent.
        public var clientFrames: [Frame] { frames.filter { $0.direction == .clientToServer } }
    }

    /// One WebSocket frame read by the proxy, as it was on the wire (payload unmasked).
    public struct Frame: Sendable, Hashable {
        /// Which accepted connection (1, 2, ... in accept order).
        public var connection: Int
        /// Who sent it.
        public var direction: Direction
        /// The WebSocket opcode (1 text, 2 binary, 8 close, 9 ping, 10 pong, 0 continuation).
        public var opcode: UInt8
        /// The FIN bit.
        public var isFinal: Bool
        /// The payload length announced.
        public var payloadLength: Int
        /// The payload, unmasked (its first 4096 bytes).
        public var payload: [UInt8]
        /// Whether the proxy swallowed it (black hole) instead of relaying it.
        public var swallowed: Bool

        /// The payload as UTF-8 text, for text frames.
        public var text: String? { opcode == 1 ? String(decoding: payload, as: UTF8.self) : nil }
    }
}
