import Foundation
import TransportCore

/// Where and how to connect, taken from a `WebSocketRequest` and checked before any I/O.
struct LWSTarget: Equatable {
    var usesTLS: Bool
    /// The address given to lws: a host name or an IP literal (IPv6 without brackets).
    var address: String
    var port: Int32
    /// Path and query, never empty.
    var path: String
    /// The `Host` header value; lws also takes the TLS host name (SNI, verification) from it.
    var hostHeader: String

    init(usesTLS: Bool, address: String, port: Int32, path: String, hostHeader: String) {
        self.usesTLS = usesTLS
        self.address = address
        self.port = port
        self.path = path
        self.hostHeader = hostHeader
    }

    init(request: WebSocketRequest) throws(TransportError) {
        guard let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme?.lowercased()
        else { throw TransportError(.invalidRequest, "the URL \(request.url) cannot be parsed") }
        switch scheme {
        case "ws": usesTLS = false
        case "wss": usesTLS = true
        default: throw TransportError(.unsupportedScheme, "TransportLWS serves ws:// and wss://, not \(scheme)://")
        }
        guard var host = components.host, !host.isEmpty else {
            throw TransportError(.invalidRequest, "the URL \(request.url) has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let defaultPort = usesTLS ? 443 : 80
        let port = components.port ?? defaultPort
        guard (1...65535).contains(port) else { throw TransportError(.invalidRequest, "the port \(port) is invalid") }
        address = host
        self.port = Int32(port)
        let literalHost = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? literalHost : "\(literalHost):\(port)"
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        self.path = path

        if usesTLS, let problem = request.tls.configurationProblem {
            throw TransportError(.tls, problem, isPermanent: true)
        }
        try Self.validate(request)
    }

    private static func validate(_ request: WebSocketRequest) throws(TransportError) {
        let limits = request.limits
        guard limits.maxFrameSize > 0, limits.maxMessageSize > 0, limits.outboundBufferSize > 0,
            limits.inboundBufferCount > 0
        else { throw TransportError(.invalidRequest, "every limit must be positive: \(limits)") }
        let timeouts = request.timeouts
        guard timeouts.connect > .zero, timeouts.handshake > .zero, timeouts.close > .zero else {
            throw TransportError(.invalidRequest, "every timeout must be positive: \(timeouts)")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenByte) else {
                throw TransportError(.invalidRequest, "invalid header name \"\(header.name)\"")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) else {
                throw TransportError(.invalidRequest, "the value of header \(header.name) holds CR, LF or NUL")
            }
        }
        for subprotocol in request.subprotocols {
            guard !subprotocol.isEmpty, subprotocol.utf8.allSatisfy(isTokenByte) else {
                throw TransportError(.invalidRequest, "invalid subprotocol \"\(subprotocol)\"")
            }
        }
    }

    /// RFC 7230 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
