import Foundation
import NIOCore
import NIOWebSocket
import PhoenixProtocol

/// Asks a connection's handler to close its socket with a close frame (fired as a user event).
struct SandboxCloseRequest: Sendable, Hashable {
    /// The code to send; nil means "the server stops": 1012 if channels are joined, else 1000.
    var code: UInt16?
    var reason: String
}

/// Runs one `SandboxConnection` on a NIO channel after the WebSocket upgrade: frames in, frames
/// out, pings answered, the idle timer, and the close handshake.
final class SandboxWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How long to wait for the client's close frame after sending ours.
    static let closeHandshakeTimeout = TimeAmount.seconds(2)

    private var connection: SandboxConnection
    private let registry: SandboxRegistry
    private var idleTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    private var closeFrameSent = false
    /// This connection's id in the registry's rooms.
    private var roomID: SandboxRooms.ConnectionID?

    init(serializer: PhoenixSerializer, configuration: SandboxConfiguration, registry: SandboxRegistry) {
        self.connection = SandboxConnection(
            serializer: serializer, configuration: configuration, control: registry.control, now: Date())
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pendingClose = registry.webSocketOpened(context.channel)
        roomID = registry.roomMailboxOpened(context.channel)
        scheduleIdleTimer(context: context)
        if let pendingClose {
            // Asked while the upgrade was finishing: once the pipeline is complete.
            let pipeline = context.pipeline
            context.eventLoop.execute { pipeline.fireUserInboundEventTriggered(pendingClose) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        closeTimer?.cancel()
        registry.webSocketClosed(context.channel)
        leaveRooms()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        closeTimer?.cancel()
        registry.webSocketClosed(context.channel)
        leaveRooms()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let now = Date()
        switch frame.opcode {
        case .connectionClose:
            if closeFrameSent {
                // The client answered our close: the handshake is over.
                context.close(promise: nil)
            } else {
                // The client closes: answer 1000, then close the TCP connection.
                closeFrameSent = true
                connection.closeRequested()
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(closeFrame(code: 1000, reason: "", context: context)))
                    .whenComplete { _ in channel.close(promise: nil) }
            }
        case .ping:
            connection.activity(at: now)
            guard !closeFrameSent else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            connection.activity(at: now)
        case .text, .binary:
            registry.messageReceived()
            var payload = frame.unmaskedData
            let bytes = payload.readBytes(length: payload.readableBytes) ?? []
            let phoenixFrame: PhoenixFrame = frame.opcode == .text ? .text(bytes) : .binary(bytes)
            perform(connection.frameReceived(phoenixFrame, at: now, behavior: registry.behavior), context: context)
        default:
            // Continuations are joined by the aggregator before this handler; nothing else is defined.
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let delivery = event as? SandboxRoomDelivery {
            guard !closeFrameSent, let frame = connection.deliver(delivery.message) else { return }
            write(frame, context: context)
            context.flush()
            return
        }
        if let push = event as? SandboxControlDelivery {
            guard !closeFrameSent,
                let frame = connection.controlPush(interlocutorID: push.interlocutorID, taken: push.taken, at: push.at)
            else { return }
            write(frame, context: context)
            context.flush()
            return
        }
        guard let request = event as? SandboxCloseRequest else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !closeFrameSent else { return }
        let code = request.code ?? connection.shutdownCloseCode
        connection.closeRequested()
        sendClose(code: code, reason: request.reason, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketError {
            // NIO's protocol error handler has already sent a close frame and closes the channel.
            closeFrameSent = true
            return
        }
        guard !closeFrameSent else {
            context.close(promise: nil)
            return
        }
        let tooBig = (error as? NIOWebSocketFrameAggregator.Error) == .accumulatedFrameSizeIsTooLarge
        connection.closeRequested()
        sendClose(code: tooBig ? 1009 : 1002, reason: tooBig ? "message too big" : "protocol error", context: context)
    }

    // MARK: Doing what the connection asks

    private func perform(_ outputs: [SandboxConnection.Output], context: ChannelHandlerContext) {
        guard !outputs.isEmpty else { return }
        for output in outputs {
            switch output {
            case .send(let frame):
                write(frame, context: context)
            case .close(let code, let reason):
                sendClose(code: code, reason: reason, context: context)
            case .room(let request):
                guard let roomID else { continue }
                for message in registry.room(request, from: roomID, at: Date()) {
                    if let frame = connection.deliver(message) { write(frame, context: context) }
                }
            }
        }
        context.flush()
    }

    private func write(_ frame: PhoenixFrame, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: frame.bytes.count)
        buffer.writeBytes(frame.bytes)
        let opcode: WebSocketOpcode
        switch frame {
        case .text: opcode = .text
        case .binary: opcode = .binary
        }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: buffer)), promise: nil)
    }

    /// The socket is gone: its users leave their rooms (once).
    private func leaveRooms() {
        guard let roomID else { return }
        self.roomID = nil
        registry.roomMailboxClosed(roomID)
    }

    private func sendClose(code: UInt16, reason: String, context: ChannelHandlerContext) {
        guard !closeFrameSent else { return }
        closeFrameSent = true
        idleTimer?.cancel()
        context.writeAndFlush(wrapOutboundOut(closeFrame(code: code, reason: reason, context: context)), promise: nil)
        // Wait for the client's close frame, but not forever.
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeHandshakeTimeout) {
            context.close(promise: nil)
        }
    }

    private func closeFrame(code: UInt16, reason: String, context: ChannelHandlerContext) -> WebSocketFrame {
        var buffer = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        buffer.writeInteger(code)
        buffer.writeString(reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: buffer)
    }

    // MARK: Idle timeout

    private func scheduleIdleTimer(context: ChannelHandlerContext) {
        let delay = connection.idleDeadline.timeIntervalSinceNow
        let nanoseconds = delay.isFinite ? Int64(min(max(delay, 0), 86_400 * 365) * 1e9) : 0
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
            let outputs = connection.timerFired(at: Date())
            if outputs.isEmpty {
                // A frame came since: wait for the new deadline.
                if !connection.isClosing { scheduleIdleTimer(context: context) }
            } else {
                perform(outputs, context: context)
            }
        }
    }
}
