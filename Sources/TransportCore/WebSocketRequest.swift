import Foundation

/// What a transport needs to open one WebSocket connection.
public struct WebSocketRequest: Sendable, Hashable {
    /// A `ws://` or `wss://` URL (transports that do not serve `wss://` say so with
    /// `TransportError.Code.unsupportedScheme`).
    public var url: URL
    /// Extra HTTP headers for the upgrade request, in order. Names are sent as given.
    public var headers: [HTTPHeader]
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference.
    public var subprotocols: [String]
    /// Frame, message and buffer sizes.
    public var limits: WebSocketLimits
    /// Connect, handshake and close timeouts.
    public var timeouts: WebSocketTimeouts
    /// Certificate verification for `wss://`.
    public var tls: TLSOptions

    /// A request for `url`; every other setting has a default.
    public init(
        url: URL,
        headers: [HTTPHeader] = [],
        subprotocols: [String] = [],
        limits: WebSocketLimits = .init(),
        timeouts: WebSocketTimeouts = .init(),
        tls: TLSOptions = .init()
    ) {
        self.url = url
        self.headers = headers
        self.subprotocols = subprotocols
        self.limits = limits
        self.timeouts = timeouts
        self.tls = tls
    }
}

/// One HTTP header field.
public struct HTTPHeader: Sendable, Hashable {
    /// The field name, sent as given.
    public var name: String
    /// The field value.
    public var value: String
    /// The header `name: value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Size limits; a message over them closes the connection with 1009.
public struct WebSocketLimits: Sendable, Hashable {
    /// The largest single frame accepted, in bytes. Default 16 MiB.
    public var maxFrameSize: Int
    /// The largest whole (reassembled) message accepted, in bytes. Default 16 MiB.
    public var maxMessageSize: Int
    /// How many bytes may wait in the outbound buffer before `send` suspends. Default 1 MiB.
    public var outboundBufferSize: Int
    /// How many whole messages may wait in the inbound buffer before the transport stops
    /// reading from the network. Default 64.
    public var inboundBufferCount: Int

    /// Limits; each defaults to the value given on its property.
    public init(
        maxFrameSize: Int = 16 << 20,
        maxMessageSize: Int = 16 << 20,
        outboundBufferSize: Int = 1 << 20,
        inboundBufferCount: Int = 64
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.outboundBufferSize = outboundBufferSize
        self.inboundBufferCount = inboundBufferCount
    }
}

/// Time limits of a connection's phases.
public struct WebSocketTimeouts: Sendable, Hashable {
    /// TCP (and TLS) connect. Default 10 s.
    public var connect: Duration
    /// From connected to the server's 101 answer. Default 10 s.
    public var handshake: Duration
    /// From our close frame to the server's answer. Default 5 s.
    public var close: Duration

    /// Timeouts; each defaults to the value given on its property.
    public init(connect: Duration = .seconds(10), handshake: Duration = .seconds(10), close: Duration = .seconds(5)) {
        self.connect = connect
        self.handshake = handshake
        self.close = close
    }
}

/// TLS settings for `wss://`. Verification is on by default.
///
/// Trusted roots come from one place: the system's trust store when neither `caFilePath` nor
/// `caPEM` is set, else the custom CA certificates they give (the system store is then not
/// used). Giving both is a configuration error: connecting fails with a permanent
/// `TransportError` of code `.tls` before any socket is opened, as do a CA file that cannot be
/// read and CA bytes that hold no PEM certificate. Reconnecting cannot fix a configuration, so
/// such errors are `isPermanent`.
public struct TLSOptions: Sendable, Hashable {
    /// A PEM file of trusted CA certificates; nil uses the system's trust store (or `caPEM`).
    public var caFilePath: String?
    /// Trusted CA certificates as PEM text (one or more `-----BEGIN CERTIFICATE-----` blocks),
    /// for a private server whose CA ships inside the app rather than as a file; nil uses the
    /// system's trust store (or `caFilePath`).
    public var caPEM: [UInt8]?
    /// Accept any certificate and any host name. For tests against local servers only.
    public var insecureSkipVerification: Bool
    /// Resume TLS sessions on reconnects (on by default): the next connection to the same host
    /// name and port, with the same options, offers a session kept from an earlier one whose
    /// certificate verified, and skips most of the handshake's cost. `POSIXTransport` keeps a
    /// few sessions per host and port (a TLS 1.3 ticket is used once) and starts afresh when a
    /// changed CA file gives the options a new context. `LWSTransport` ignores it: each of its
    /// connections has a TLS context of its own and never resumes.
    public var resumesSessions: Bool

    /// TLS settings; the default verifies against the system trust store.
    ///
    /// - Parameter caFilePath: a PEM file of trusted CA certificates.
    /// - Parameter caPEM: trusted CA certificates as PEM bytes. Give at most one of `caFilePath`
    ///   and `caPEM`.
    /// - Parameter insecureSkipVerification: accept any certificate and host name (tests only).
    /// - Parameter resumesSessions: resume TLS sessions on reconnects (`POSIXTransport` only).
    public init(
        caFilePath: String? = nil, caPEM: [UInt8]? = nil, insecureSkipVerification: Bool = false,
        resumesSessions: Bool = true
    ) {
        self.caFilePath = caFilePath
        self.caPEM = caPEM
        self.insecureSkipVerification = insecureSkipVerification
        self.resumesSessions = resumesSessions
    }

    /// Why these settings cannot be used, or nil: both a CA file and CA bytes given, or CA bytes
    /// without a PEM certificate block. Transports check it before opening any socket and fail
    /// with a permanent `.tls` error carrying this text (OpenSSL may still refuse a block that
    /// looks right; its own reason then says why).
    public var configurationProblem: String? {
        guard let caPEM else { return nil }
        if caFilePath != nil { return "TLSOptions gives both caFilePath and caPEM: give one" }
        let begin = Array("-----BEGIN CERTIFICATE-----".utf8)
        let end = Array("-----END CERTIFICATE-----".utf8)
        guard let start = Self.index(of: begin, in: caPEM[...]),
            Self.index(of: end, in: caPEM[(start + begin.count)...]) != nil
        else {
            return "the CA PEM data holds no certificate"
        }
        return nil
    }

    private static func index(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (bytes.startIndex...(bytes.endIndex - needle.count)).first { start in
            bytes[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
