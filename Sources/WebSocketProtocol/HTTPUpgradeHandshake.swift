import Crypto
import Foundation
import TransportCore

/// The HTTP/1.1 upgrade handshake of RFC 6455 section 4, without I/O: it builds the request
/// bytes and checks the server's answer. Every failure is a `TransportError`.
package struct HTTPUpgradeHandshake: Sendable {
    /// The request target split out of a `ws://` or `wss://` URL.
    package struct Target: Sendable, Hashable {
        /// The host as given to the resolver (IPv6 literals without brackets).
        package var host: String
        /// The TCP port (80 for `ws://`, 443 for `wss://`, when the URL names none).
        package var port: Int
        /// Path and query, e.g. `/socket/websocket?vsn=2.0.0`.
        package var requestTarget: String
        /// Whether the URL is `wss://` (TLS under the WebSocket).
        package var usesTLS = false

        /// The `Host` header value: brackets around IPv6 literals, port when not the scheme's default.
        package var hostHeader: String {
            let bracketed = host.contains(":") ? "[\(host)]" : host
            return port == (usesTLS ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
        }

        /// Reads a `ws://` or `wss://` URL; other schemes are invalid.
        package init(url: URL) throws(TransportError) {
            guard let scheme = url.scheme?.lowercased() else {
                throw TransportError(.invalidRequest, "the URL \(url.absoluteString) has no scheme")
            }
            switch scheme {
            case "ws": break
            case "wss": usesTLS = true
            default:
                throw TransportError(
                    .unsupportedScheme, "scheme \(scheme):// is not a WebSocket scheme (use ws:// or wss://)")
            }
            guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
                var host = components.host, !host.isEmpty
            else { throw TransportError(.invalidRequest, "the URL \(url.absoluteString) has no host") }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let port = components.port ?? (usesTLS ? 443 : 80)
            guard (1...65535).contains(port) else {
                throw TransportError(.invalidRequest, "port \(port) is out of range")
            }
            var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { target += "?" + query }
            self.host = host
            self.port = port
            self.requestTarget = target
        }
    }

    /// Header names the handshake sets itself; a request may not override them.
    static let reservedHeaderNames: Set<String> = [
        "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol",
        "sec-websocket-extensions", "content-length", "transfer-encoding",
    ]

    /// Where the request goes: the resolver and the `Host` header read it.
    package let target: Target
    /// The base64 of 16 random bytes, sent as `Sec-WebSocket-Key`.
    let key: String
    let subprotocols: [String]
    let headers: [HTTPHeader]

    /// A handshake for `target`. `key` is random unless a test fixes it.
    ///
    /// - Throws: `invalidRequest` for a header name that is not an HTTP token, a value with CR,
    ///   LF or NUL, a header the handshake sets itself, or a subprotocol that is not a token.
    package init(
        target: Target, key: String = HTTPUpgradeHandshake.makeKey(), subprotocols: [String], headers: [HTTPHeader]
    )
        throws(TransportError)
    {
        for header in headers {
            guard Self.isToken(header.name) else {
                throw TransportError(.invalidRequest, "invalid header name \"\(header.name)\"")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw TransportError(.invalidRequest, "the value of header \(header.name) contains CR, LF or NUL")
            }
            guard !Self.reservedHeaderNames.contains(header.name.lowercased()) else {
                throw TransportError(.invalidRequest, "header \(header.name) is set by the WebSocket handshake itself")
            }
        }
        for subprotocol in subprotocols where !Self.isToken(subprotocol) {
            throw TransportError(.invalidRequest, "invalid subprotocol name \"\(subprotocol)\"")
        }
        self.target = target
        self.key = key
        self.subprotocols = subprotocols
        self.headers = headers
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
    static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// The `Sec-WebSocket-Accept` a server must answer `key` with (section 4.2.2).
    static func acceptValue(forKey key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return Data(digest).base64EncodedString()
    }

    /// The request, ready to write.
    package var requestBytes: [UInt8] {
        var text = "GET \(target.requestTarget) HTTP/1.1\r\n"
        text += "Host: \(target.hostHeader)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty { text += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks a parsed answer; returns the subprotocol the server selected.
    package func validate(_ response: HTTPResponseHead) throws(TransportError) -> String? {
        guard response.status == 101 else {
            throw TransportError(
                .handshakeRejected(status: response.status),
                "the server answered the upgrade with \(response.status) \(response.reasonPhrase)")
        }
        guard let upgrade = response.value(of: "Upgrade"), upgrade.lowercased() == "websocket" else {
            throw TransportError(.handshakeInvalid, "the 101 answer has no \"Upgrade: websocket\" header")
        }
        let connectionTokens = response.values(of: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard connectionTokens.contains("upgrade") else {
            throw TransportError(.handshakeInvalid, "the 101 answer has no \"Connection: Upgrade\" header")
        }
        let expected = Self.acceptValue(forKey: key)
        guard let accept = response.value(of: "Sec-WebSocket-Accept"), accept == expected else {
            throw TransportError(
                .handshakeInvalid,
                "Sec-WebSocket-Accept is \(response.value(of: "Sec-WebSocket-Accept") ?? "missing"), expected \(expected)"
            )
        }
        if let extensions = response.value(of: "Sec-WebSocket-Extensions"), !extensions.isEmpty {
            throw TransportError(.handshakeInvalid, "the server selected extensions we did not offer: \(extensions)")
        }
        let selected = response.values(of: "Sec-WebSocket-Protocol")
        guard let chosen = selected.first else { return nil }
        guard selected.count == 1, subprotocols.contains(chosen) else {
            throw TransportError(
                .handshakeInvalid,
                "the server selected subprotocol \"\(selected.joined(separator: ", "))\", "
                    + "not one of those offered (\(subprotocols.joined(separator: ", ")))")
        }
        return chosen
    }

    /// RFC 7230 token characters.
    static func isToken(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        return text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}

/// The status line and headers of an HTTP response.
package struct HTTPResponseHead: Sendable, Hashable {
    /// The status code, e.g. 101.
    package var status: Int
    /// The reason phrase after the code, possibly empty.
    package var reasonPhrase: String
    /// The header fields, in order, names as sent.
    package var headers: [HTTPHeader]

    /// Every value of the header `name` (case-insensitive), in order.
    func values(of name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The first value of the header `name`.
    func value(of name: String) -> String? { values(of: name).first }
}

/// Collects the server's answer until the blank line, then parses it. Bytes after the head
/// are already WebSocket frames and are handed back.
package struct HTTPResponseParser: Sendable {
    /// A head larger than this is refused rather than buffered without bound.
    static let maxHeadSize = 16 << 10

    private var buffer: [UInt8] = []
    private var scanFrom = 0

    /// A parser waiting for the first byte of the answer.
    package init() {}

    /// Adds bytes; returns the head and the bytes after it once the blank line has arrived.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> (HTTPResponseHead, [UInt8])?
    {
        buffer.append(contentsOf: bytes)
        var index = max(0, scanFrom - 3)
        while index + 3 < buffer.count {
            if buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D
                && buffer[index + 3] == 0x0A
            {
                // The same limit as below, whether the head came in one read or in many.
                guard index + 4 <= Self.maxHeadSize else { throw Self.headTooLarge }
                let head = try Self.parse(buffer[..<index])
                return (head, Array(buffer[(index + 4)...]))
            }
            index += 1
        }
        scanFrom = buffer.count
        guard buffer.count <= Self.maxHeadSize else { throw Self.headTooLarge }
        return nil
    }

    static let headTooLarge = TransportError(
        .handshakeInvalid, "the server's answer head exceeds \(maxHeadSize) bytes")

    static func parse(_ bytes: ArraySlice<UInt8>) throws(TransportError) -> HTTPResponseHead {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { throw TransportError(.handshakeInvalid, "empty HTTP answer") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw TransportError(.handshakeInvalid, "malformed HTTP status line \"\(statusLine.prefix(100))\"")
        }
        var headers: [HTTPHeader] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw TransportError(.handshakeInvalid, "malformed HTTP header line \"\(line.prefix(100))\"")
            }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append(HTTPHeader(name, value))
        }
        return HTTPResponseHead(status: status, reasonPhrase: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }
}
