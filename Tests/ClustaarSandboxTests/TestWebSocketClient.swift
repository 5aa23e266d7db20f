import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A frame the test client received.
enum ReceivedFrame: Sendable, Hashable, CustomStringConvertible {
    case text(String)
    case binary([UInt8])
    case pong([UInt8])
    case close(code: UInt16?, reason: String)

    var description: String {
        switch self {
        case .text(let text): "text \(text)"
        case .binary(let bytes): "binary \(bytes)"
        case .pong(let bytes): "pong \(bytes)"
        case .close(let code, let reason): "close \(code.map(String.init) ?? "none") \(reason)"
        }
    }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A small WebSocket client for the network tests, built on swift-nio's client upgrader (the
/// project's own transports are tested elsewhere). Received frames queue up; `next()` waits for
/// the next one with a deadline, so a missing frame fails the test instead of hanging it.
final class TestWebSocketClient: Sendable {
    let channel: any Channel
    /// The `Sec-WebSocket-Protocol` the server selected, if any.
    let selectedSubprotocol: String?
    private let inbox: NIOLoopBound<Inbox>

    /// What a completed upgrade hands back.
    fileprivate struct Upgraded: Sendable {
        var inbox: NIOLoopBound<Inbox>
        var subprotocol: String?
    }

    private init(channel: any Channel, upgraded: Upgraded) {
        self.channel = channel
        self.inbox = upgraded.inbox
        self.selectedSubprotocol = upgraded.subprotocol
    }

    /// Connects to `ws://127.0.0.1:<port><path>?<query>` and completes the upgrade.
    static func connect(
        port: Int,
        query: String,
        path: String = "/socket/websocket",
        subprotocols: [String] = []
    ) async throws -> TestWebSocketClient {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let upgraded = eventLoop.makePromise(of: Upgraded.self)
        let target = "\(path)?\(query)"
        let host = "127.0.0.1:\(port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 1 << 24,
                    upgradePipelineHandler: { channel, response in
                        channel.eventLoop.makeCompletedFuture {
                            let inbox = Inbox(eventLoop: channel.eventLoop)
                            try channel.pipeline.syncOperations.addHandler(inbox)
                            upgraded.succeed(
                                Upgraded(
                                    inbox: NIOLoopBound(inbox, eventLoop: channel.eventLoop),
                                    subprotocol: response.headers.first(name: "Sec-WebSocket-Protocol")))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHTTPClientHandlers(
                        withClientUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.removeHandler(name: UpgradeRequestHandler.name, promise: nil)
                            }
                        ))
                    try pipeline.addHandler(
                        UpgradeRequestHandler(
                            target: target, host: host, subprotocols: subprotocols, upgraded: upgraded),
                        name: UpgradeRequestHandler.name)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        } catch {
            upgraded.fail(error)  // NIO traps on a promise left pending in debug builds
            throw error
        }
        // Fails the upgrade if the connection ends first (e.g. the server refused it).
        channel.closeFuture.whenComplete { _ in
            upgraded.fail(TestClientError(description: "connection closed before the upgrade"))
        }
        return TestWebSocketClient(channel: channel, upgraded: try await upgraded.futureResult.get())
    }

    func send(text: String) async throws {
        try await send(opcode: .text, bytes: Array(text.utf8))
    }

    func send(binary bytes: [UInt8]) async throws {
        try await send(opcode: .binary, bytes: bytes)
    }

    func sendPing(_ bytes: [UInt8]) async throws {
        try await send(opcode: .ping, bytes: bytes)
    }

    func sendClose(code: UInt16) async throws {
        let inbox = self.inbox
        try await channel.eventLoop.submit { inbox.value.closeSent = true }.get()
        try await send(opcode: .connectionClose, bytes: [UInt8(code >> 8), UInt8(code & 0xFF)])
    }

    func send(opcode: WebSocketOpcode, bytes: [UInt8], fin: Bool = true) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        // Client frames must be masked (RFC 6455 §5.3).
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: buffer)
        try await channel.writeAndFlush(frame).get()
    }

    /// The next frame, or an error if none comes within `timeout` or the connection ends.
    func next(timeout: TimeAmount = .seconds(30)) async throws -> ReceivedFrame {
        let inbox = self.inbox
        return try await channel.eventLoop.flatSubmit { inbox.value.next(timeout: timeout) }.get()
    }

    /// The next `count` frames, as text (binary frames are rendered as `binary [..]`).
    func nextTexts(_ count: Int) async throws -> [String] {
        var texts: [String] = []
        for _ in 0..<count {
            switch try await next() {
            case .text(let text): texts.append(text)
            case let other: texts.append(other.description)
            }
        }
        return texts
    }

    /// Waits until the TCP connection is closed.
    func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// Sends the upgrade request once connected; reports an HTTP answer that is not an upgrade.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let name = "test-upgrade-request"

    let target: String
    let host: String
    let subprotocols: [String]
    let upgraded: EventLoopPromise<TestWebSocketClient.Upgraded>

    init(
        target: String,
        host: String,
        subprotocols: [String],
        upgraded: EventLoopPromise<TestWebSocketClient.Upgraded>
    ) {
        self.target = target
        self.host = host
        self.subprotocols = subprotocols
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        if !subprotocols.isEmpty {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", "))
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            upgraded.fail(TestClientError(description: "HTTP \(head.status.code) instead of an upgrade"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }
}

/// Queues received frames and hands them to waiters, on the channel's event loop only.
final class Inbox: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let eventLoop: any EventLoop
    private var frames: [ReceivedFrame] = []
    private var waiters: [(id: Int, promise: EventLoopPromise<ReceivedFrame>, timer: Scheduled<Void>)] = []
    private var nextWaiterID = 0
    private var isClosed = false
    /// Whether this side has sent its close frame.
    var closeSent = false

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var payload = frame.unmaskedData
        let bytes = payload.readBytes(length: payload.readableBytes) ?? []
        switch frame.opcode {
        case .text: deliver(.text(String(decoding: bytes, as: UTF8.self)))
        case .binary: deliver(.binary(bytes))
        case .pong: deliver(.pong(bytes))
        case .connectionClose:
            let code = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : nil
            let reason = bytes.count > 2 ? String(decoding: bytes[2...], as: UTF8.self) : ""
            deliver(.close(code: code, reason: reason))
            if !closeSent {
                // Answer the server's close, as a real client does (RFC 6455 §5.5.1).
                closeSent = true
                var echo = context.channel.allocator.buffer(capacity: 2)
                echo.writeInteger(code ?? 1000)
                let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)
                context.writeAndFlush(NIOAny(frame), promise: nil)
            }
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        let waiting = waiters
        waiters = []
        for waiter in waiting {
            waiter.timer.cancel()
            waiter.promise.fail(TestClientError(description: "connection closed while waiting for a frame"))
        }
        context.fireChannelInactive()
    }

    func next(timeout: TimeAmount) -> EventLoopFuture<ReceivedFrame> {
        if !frames.isEmpty { return eventLoop.makeSucceededFuture(frames.removeFirst()) }
        if isClosed {
            return eventLoop.makeFailedFuture(TestClientError(description: "connection closed, no frame left"))
        }
        let promise = eventLoop.makePromise(of: ReceivedFrame.self)
        nextWaiterID += 1
        let id = nextWaiterID
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            waiters.removeAll { $0.id == id }
            promise.fail(TestClientError(description: "no frame within \(timeout)"))
        }
        waiters.append((id, promise, timer))
        return promise.futureResult
    }

    private func deliver(_ frame: ReceivedFrame) {
        if waiters.isEmpty {
            frames.append(frame)
        } else {
            let waiter = waiters.removeFirst()
            waiter.timer.cancel()
            waiter.promise.succeed(frame)
        }
    }
}
