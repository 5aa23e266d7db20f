// The one swift-nio WebSocket echo server every loopback client talks to, in this process.
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// A swift-nio WebSocket server on 127.0.0.1 (an ephemeral port) that sends every text and
/// binary frame back as it came (unmasked), answers pings and close frames. Started once per
/// process, on one event-loop thread, so every client meets the same server.
final class EchoServer: Sendable {
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let listener: any Channel

    private static let shared = Mutex<EchoServer?>(nil)
    private static let sharedTLS = Mutex<EchoServer?>(nil)

    /// The process's TLS echo server (swift-nio-ssl, the test CA's "localhost" certificate),
    /// started on first use.
    static func runningTLS() throws -> EchoServer {
        try sharedTLS.withLock { server in
            if let server { return server }
            let certificates = try BenchCertificates.shared()
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.serverCertificate).map {
                    .certificate($0)
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.serverKey, format: .pem)))
            let started = try EchoServer(tls: try NIOSSLContext(configuration: configuration))
            server = started
            return started
        }
    }

    /// The process's echo server, started on first use.
    static func running() throws -> EchoServer {
        try shared.withLock { server in
            if let server { return server }
            let started = try EchoServer(tls: nil)
            server = started
            return started
        }
    }

    private init(tls: NIOSSLContext?) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 16 << 20,
                    automaticErrorHandling: true,
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(EchoFrameHandler())
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
        do {
            listener = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        port = listener.localAddress?.port ?? 0
    }
}

/// Echoes data frames frame by frame (fragments stay fragments); replies are flushed once per
/// read burst, as a server under load batches them.
private final class EchoFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard !closing else { return }
            let reply = WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
            context.write(wrapOutboundOut(reply), promise: nil)
        case .ping:
            let reply = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.write(wrapOutboundOut(reply), promise: nil)
        case .connectionClose:
            guard !closing else { return }
            closing = true
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
