import NIOCore
import NIOHTTP1

/// Answers every HTTP request the WebSocket upgrader did not take: a plain-text error with the
/// status `SandboxEndpoint` gives (404 wrong path, 400 bad `vsn` or no upgrade, 403 `reject=1`).
final class SandboxHTTPFallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "clustaar-sandbox-http-fallback"

    private var requestURI: String?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestURI = head.uri
        case .body:
            break
        case .end:
            let (status, text) = Self.answer(uri: requestURI ?? "")
            requestURI = nil
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            headers.add(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            var body = context.channel.allocator.buffer(capacity: text.utf8.count)
            body.writeString(text)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    static func answer(uri: String) -> (HTTPResponseStatus, String) {
        switch SandboxEndpoint.route(uri: uri) {
        case .refused(let status, let reason):
            return (HTTPResponseStatus(statusCode: status), reason + "\n")
        case .webSocket:
            return (.badRequest, "expected a WebSocket upgrade\n")
        }
    }
}
