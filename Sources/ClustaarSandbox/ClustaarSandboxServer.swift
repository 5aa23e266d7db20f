import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import TransportCore

/// A local Clustaar-compatible Phoenix server on a real TCP port.
///
/// It serves `<endpoint>/websocket` with the JSON v1 and JSON v2 serializers (`vsn=1.0.0`,
/// `vsn=2.0.0`; v2 binary frames carry binary payloads), answers heartbeats and runs the
/// `interlocutor:<id>` channel of `SandboxSession` and the `room:<name>` channels with presence
/// (`SandboxRooms`, shared by every connection).
///
/// ```swift
/// let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
/// let endpoint = sandbox.url          // ws://127.0.0.1:<port>/socket
/// sandbox.setControl(interlocutorID: id, taken: true)  // an agent takes the conversation
/// try await sandbox.restart()         // same port: clients see a close, then reconnect
/// await sandbox.shutdown()
/// ```
public final class ClustaarSandboxServer: Sendable {
    /// Why the server cannot do what was asked.
    public struct ServerError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What went wrong, in words.
        public var description: String
    }

    private struct Listener {
        var channel: (any Channel)?
        var port: Int
        var isShutDown = false
    }

    /// The host the server listens on.
    public let host: String
    /// The limits and timeouts every connection gets.
    public let configuration: SandboxConfiguration
    private let group: any EventLoopGroup
    private let registry = SandboxRegistry()
    private let listener: Locked<Listener>

    private init(host: String, port: Int, configuration: SandboxConfiguration, group: any EventLoopGroup) {
        self.host = host
        self.configuration = configuration
        self.group = group
        self.listener = Locked(Listener(channel: nil, port: port))
    }

    /// Starts a server listening on `host:port` (port 0 picks a free port; read it from `port`).
    ///
    /// - Parameters:
    ///   - host: the address to listen on (default the IPv4 loopback).
    ///   - port: the port; 0 picks a free one.
    ///   - configuration: the limits and timeouts of the server.
    ///   - eventLoopGroup: where the server runs; NIO's shared singleton group by default.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: SandboxConfiguration = SandboxConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws -> ClustaarSandboxServer {
        let server = ClustaarSandboxServer(
            host: host, port: port, configuration: configuration,
            group: eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton)
        try await server.start()
        return server
    }

    /// The TCP port the server listens on (the same across `stop()`/`start()`).
    public var port: Int { listener.withLock { $0.port } }

    /// The endpoint to give a client: `ws://<host>:<port>/socket`.
    public var url: URL {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let text = "ws://\(hostPart):\(port)/socket"
        return URL(string: text) ?? URL(fileURLWithPath: text)
    }

    /// Whether the server accepts connections now.
    public var isListening: Bool { listener.withLock { $0.channel != nil } }

    /// Counters since the server was created.
    public var statistics: SandboxStatistics { registry.statistics }

    /// How the server answers right now; change it with `setBehavior(_:)`.
    public var behavior: SandboxBehavior { registry.behavior }

    /// Changes how the server answers, for every connection, from the next message on.
    /// E.g. `setBehavior(SandboxBehavior(bot: .silent))` makes `interlocutor_reply` pushes time out.
    public func setBehavior(_ behavior: SandboxBehavior) {
        registry.behavior = behavior
    }

    /// Whether a human agent holds `interlocutorID`'s conversation now (a join replies this
    /// `control`).
    public func isControlTaken(interlocutorID: String) -> Bool {
        registry.control.isTaken(interlocutorID: interlocutorID)
    }

    /// Makes an agent take (`true`) or release (`false`) `interlocutorID`'s conversation, as a
    /// human agent would from the back office, whether the interlocutor is connected or not.
    /// Like the real service, the state belongs to the server (every connection, and every
    /// `restart()`, sees it), and each channel of that interlocutor joined now gets a `control`
    /// event `{"at":…,"value":taken}`. Nothing is sent when the state does not change.
    ///
    /// - Returns: whether the state changed.
    @discardableResult
    public func setControl(interlocutorID: String, taken: Bool) -> Bool {
        registry.setControl(interlocutorID: interlocutorID, taken: taken, at: Date())
    }

    /// Listens again on the same port after `stop()`. Does nothing if already listening.
    public func start() async throws {
        let (port, isShutDown, isListening) = listener.withLock { ($0.port, $0.isShutDown, $0.channel != nil) }
        guard !isShutDown else { throw ServerError(description: "the sandbox server was shut down") }
        guard !isListening else { return }
        let channel = try await makeBootstrap().bind(host: host, port: port).get()
        let boundPort = channel.localAddress?.port ?? port
        listener.withLock { state in
            state.channel = channel
            state.port = boundPort
        }
    }

    /// Stops listening and closes every connection, as a Phoenix server stopping does: close code
    /// 1012 for a socket with joined channels, 1000 for one without. Returns once they are closed.
    public func stop() async {
        let channel = listener.withLock { state -> (any Channel)? in
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
        await closeConnections(SandboxCloseRequest(code: nil, reason: ""))
    }

    /// Stops and starts again on the same port: clients see their sockets closed (1012 or
    /// 1000) and can reconnect to the same URL.
    public func restart() async throws {
        await stop()
        try await start()
    }

    /// Closes every open WebSocket with `code` (the server keeps listening). Returns once they
    /// are closed.
    public func closeAllConnections(code: UInt16 = 1000, reason: String = "") async {
        await closeConnections(SandboxCloseRequest(code: code, reason: reason))
    }

    /// Stops the server for good.
    public func shutdown() async {
        await stop()
        listener.withLock { $0.isShutDown = true }
    }

    private func closeConnections(_ request: SandboxCloseRequest) async {
        let (webSockets, others, all) = registry.requestClose(request)
        for channel in webSockets {
            channel.pipeline.fireUserInboundEventTriggered(request)
        }
        for channel in others {
            channel.close(promise: nil)
        }
        for channel in all {
            try? await channel.closeFuture.get()
        }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let registry = self.registry
        let configuration = self.configuration
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // Lets a restart bind the same port while old connections sit in TIME_WAIT.
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                registry.connectionAccepted(channel)
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: configuration.maxFrameSize,
                    automaticErrorHandling: true,
                    shouldUpgrade: { channel, head in
                        guard case .webSocket = SandboxEndpoint.route(uri: head.uri) else {
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                        let (selected, authToken) = SandboxEndpoint.subprotocols(
                            offered: head.headers["Sec-WebSocket-Protocol"])
                        if let authToken { registry.authTokenReceived(authToken) }
                        registry.upgradeAccepted(channel)
                        var headers = HTTPHeaders()
                        if let selected { headers.add(name: "Sec-WebSocket-Protocol", value: selected) }
                        return channel.eventLoop.makeSucceededFuture(headers)
                    },
                    upgradePipelineHandler: { channel, head in
                        guard case .webSocket(let serializer) = SandboxEndpoint.route(uri: head.uri) else {
                            return channel.eventLoop.makeFailedFuture(ServerError(description: "not a WebSocket path"))
                        }
                        return channel.eventLoop.makeCompletedFuture {
                            let pipeline = channel.pipeline.syncOperations
                            pipeline.removeHandler(name: SandboxHTTPFallbackHandler.name, promise: nil)
                            try pipeline.addHandlers([
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0,
                                    maxAccumulatedFrameCount: Int.max,
                                    maxAccumulatedFrameSize: configuration.maxFrameSize),
                                SandboxWebSocketHandler(
                                    serializer: serializer, configuration: configuration, registry: registry),
                            ])
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try pipeline.addHandler(SandboxHTTPFallbackHandler(), name: SandboxHTTPFallbackHandler.name)
                }
            }
    }
}
