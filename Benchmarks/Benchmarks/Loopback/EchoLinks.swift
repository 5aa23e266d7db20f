// The three clients of suite 4 behind one small interface: send a payload, await one echo.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization
import TransportCore

/// One open client connection to the echo server, used by one task at a time.
protocol EchoLink: AnyObject {
    /// Sends `payload` as one binary message (returns once queued, as each client's API does).
    func send(_ payload: [UInt8]) async throws
    /// Waits for the next echoed message and returns its size.
    func receive() async throws -> Int
}

struct EchoFailure: Error, CustomStringConvertible {
    var description: String
}

/// A `Transport` connection (TransportPOSIX or TransportLWS).
final class TransportEchoLink: EchoLink {
    private let connection: any WebSocketConnection
    private var inbound: WebSocketInbound.AsyncIterator

    init(_ connection: any WebSocketConnection) {
        self.connection = connection
        inbound = connection.inbound.makeAsyncIterator()
    }

    func send(_ payload: [UInt8]) async throws {
        try await connection.send(.binary(payload))
    }

    func receive() async throws -> Int {
        guard let message = try await inbound.next() else { throw EchoFailure(description: "the connection ended") }
        guard case .binary(let bytes) = message else { throw EchoFailure(description: "unexpected \(message)") }
        return bytes.count
    }

    /// Runs `body` with a link over a new connection of `transport` to the echo server.
    /// With `tls`, over wss:// with those options.
    static func with<Result: Sendable>(
        _ transport: some Transport, port: Int, tls: TLSOptions? = nil,
        _ body: (TransportEchoLink) async throws -> Result
    ) async throws -> Result {
        guard let url = URL(string: "\(tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/") else {
            throw EchoFailure(description: "bad URL")
        }
        let request = WebSocketRequest(url: url, tls: tls ?? TLSOptions())
        return try await transport.withConnection(to: request) { connection in
            try await body(TransportEchoLink(connection))
        }
    }
}

/// A swift-nio client: `NIOWebSocketClientUpgrader` and a minimal frame handler that hands each
/// echoed message's bytes (a `ByteBuffer`, no copy) to the awaiting task.
final class NIOEchoLink: EchoLink {
    private let channel: any Channel
    private var received: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator

    private init(channel: any Channel, received: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.channel = channel
        self.received = received.makeAsyncIterator()
    }

    func send(_ payload: [UInt8]) async throws {
        let frame = WebSocketFrame(
            fin: true, opcode: .binary, maskKey: .random(), data: channel.allocator.buffer(bytes: payload))
        channel.writeAndFlush(frame, promise: nil)
    }

    func receive() async throws -> Int {
        guard let bytes = try await received.next() else { throw EchoFailure(description: "the connection ended") }
        return bytes.readableBytes
    }

    /// The client event loop all NIO links share (one thread, as an app would have).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Opens a connection, completes the upgrade, runs `body`, then closes the connection.
    /// With `tls`, over TLS (SNI and verification for "localhost").
    static func with<Result: Sendable>(
        port: Int, tls: NIOSSLContext? = nil, _ body: (NIOEchoLink) async throws -> Result
    ) async throws -> Result {
        let link = try await connect(port: port, tls: tls)
        do {
            let result = try await body(link)
            try? await link.channel.close()
            return result
        } catch {
            try? await link.channel.close()
            throw error
        }
    }

    static func connect(port: Int, tls: NIOSSLContext? = nil) async throws -> NIOEchoLink {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let upgraded = group.next().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 16 << 20,
                    automaticErrorHandling: true,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                EchoClientHandler(received: continuation, upgraded: upgraded))
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: "localhost"))
                    }
                    try pipeline.addHTTPClientHandlers(
                        withClientUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(
                                    name: UpgradeRequestSender.name, promise: nil)
                            }
                        ))
                    try pipeline.addHandler(UpgradeRequestSender(port: port), name: UpgradeRequestSender.name)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
            channel.closeFuture.whenComplete { _ in upgraded.fail(EchoFailure(description: "closed before upgrade")) }
            try await upgraded.futureResult.get()
            return NIOEchoLink(channel: channel, received: stream)
        } catch {
            upgraded.fail(error)
            throw error
        }
    }
}

/// Sends the HTTP upgrade request once connected (the upgrade handler adds the WebSocket
/// headers); removed when the upgrade completes.
private final class UpgradeRequestSender: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "upgrade-request-sender"

    private let port: Int

    init(port: Int) { self.port = port }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }
}

/// Hands each echoed data frame's bytes to the stream; ends it when the connection closes.
private final class EchoClientHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let received: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let upgraded: EventLoopPromise<Void>

    init(received: AsyncThrowingStream<ByteBuffer, any Error>.Continuation, upgraded: EventLoopPromise<Void>) {
        self.received = received
        self.upgraded = upgraded
    }

    func handlerAdded(context: ChannelHandlerContext) {
        upgraded.succeed(())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text: received.yield(frame.data)
        case .connectionClose: received.finish()
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        received.finish(throwing: error)
        context.close(promise: nil)
    }
}

/// Blocking raw TCP connections that complete the WebSocket upgrade and then sit idle: they
/// cost the client side nothing but a descriptor, so opening them measures the server's
/// share of an idle connection. Run on a `Thread`, never on the task pool.
enum RawIdleConnections {
    /// Opens `count` upgraded connections; returns their descriptors (or throws).
    static func open(count: Int, port: Int) throws -> [Int32] {
        var descriptors: [Int32] = []
        do {
            for _ in 0..<count { descriptors.append(try openOne(port: port)) }
        } catch {
            close(descriptors)
            throw error
        }
        return descriptors
    }

    static func close(_ descriptors: [Int32]) {
        for descriptor in descriptors { Glibc.close(descriptor) }
    }

    private static func openOne(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EchoFailure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw EchoFailure(description: "connect: \(errno)")
        }
        let request = Array(
            ("GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
        let sent = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else {
            Glibc.close(descriptor)
            throw EchoFailure(description: "send: \(errno)")
        }
        // Read until the end of the 101 response's headers.
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !response.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                Glibc.close(descriptor)
                throw EchoFailure(description: "recv: \(errno)")
            }
            response.append(contentsOf: chunk[..<count])
        }
        guard response.starts(with: Array("HTTP/1.1 101".utf8)) else {
            Glibc.close(descriptor)
            throw EchoFailure(description: "no 101 from the echo server")
        }
        return descriptor
    }
}
