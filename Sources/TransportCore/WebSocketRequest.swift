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
public struct TLSOptions: Sendable, Hashable {
    /// A PEM file of trusted CA certificates; nil uses the system's trust store.
    public var caFilePath: String?
    /// Accept any certificate and any host name. For tests against local servers only.
    public var insecureSkipVerification: Bool

    /// TLS settings; the default verifies against the system trust store.
    public init(caFilePath: String? = nil, insecureSkipVerification: Bool = false) {
        self.caFilePath = caFilePath
        self.insecureSkipVerification = insecureSkipVerification
    }
}
