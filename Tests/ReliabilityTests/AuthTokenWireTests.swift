import ClustaarSDK
import Foundation
import PhoenixProtocol
import Testing
import TransportLWS
import TransportPOSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The auth token on the wire: the upgrade request each transport really sends carries it only
/// in `Sec-WebSocket-Protocol`, base64-encoded, never in the request line (the URL).
@Suite(.timeLimit(.minutes(1))) struct AuthTokenWireTests {
    static let authToken = "AUTHTOKEN-on-the-wire-93b1"

    @Test(arguments: TransportKind.allCases)
    func theUpgradeRequestCarriesTheAuthTokenOnlyAsASubprotocol(kind: TransportKind) async throws {
        let listener = try RequestHeadCapture()
        var configuration = ClustaarWebChatService.Configuration()
        configuration.authToken = Self.authToken
        configuration.params = [PhoenixURLParameter("client", "ios")]
        let service = try ClustaarWebChatService(
            environment: try #require(URL(string: "ws://127.0.0.1:\(listener.port)/socket")),
            transport: kind.transport, configuration: configuration)
        // The listener closes after reading the request head, so the connect fails; only the
        // request matters here.
        async let connecting: Void = { try? await service.connect() }()
        let head = await listener.capturedHead()
        await connecting
        await service.disconnect()

        let lines = head.components(separatedBy: "\r\n")
        let requestLine = try #require(lines.first)
        #expect(requestLine == "GET /socket/websocket?client=ios&vsn=2.0.0 HTTP/1.1")
        let encoded = PhoenixSocketURL.authTokenSubprotocols(token: Self.authToken)
        let protocolLines = lines.filter { $0.lowercased().hasPrefix("sec-websocket-protocol:") }
        #expect(protocolLines.count == 1)
        let offered = protocolLines.first.map { line in
            line.drop { $0 != ":" }.dropFirst().split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        #expect(offered == encoded)
        // Nowhere in plain text, and the encoded form only in that one header line.
        #expect(!head.contains(Self.authToken))
        #expect(lines.filter { $0.contains(encoded[1]) } == protocolLines)
    }
}

/// A TCP listener on 127.0.0.1 that accepts one connection on its own thread, reads the HTTP
/// request head, and closes.
final class RequestHeadCapture: Sendable {
    struct SetupFailed: Error {
        var step: String
        var errno: Int32
    }

    let port: Int
    private let head = Locked<(text: String?, waiter: CheckedContinuation<String, Never>?)>((nil, nil))

    init() throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listening >= 0 else { throw SetupFailed(step: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listening, raw, length) == 0 && listen(listening, 1) == 0
                    && getsockname(listening, raw, &length) == 0
            }
        }
        guard bound else {
            close(listening)
            throw SetupFailed(step: "bind", errno: errno)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let head = head
        Thread.detachNewThread {
            let text = Self.acceptAndReadHead(listening)
            close(listening)
            let waiter = head.withLock { state -> CheckedContinuation<String, Never>? in
                state.text = text
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: text)
        }
    }

    /// The request head (up to the blank line), once the client sent it.
    func capturedHead() async -> String {
        await withCheckedContinuation { continuation in
            let ready = head.withLock { state -> String? in
                if let text = state.text { return text }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private static func acceptAndReadHead(_ listening: Int32) -> String {
        let connection = accept(listening, nil, nil)
        guard connection >= 0 else { return "" }
        defer { close(connection) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while received.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received += buffer[0..<count]
            if let range = received.firstRange(of: end) {
                received = Array(received[..<range.lowerBound])
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
