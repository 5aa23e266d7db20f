import Foundation

/// Everything a socket needs to know before it connects: where, how, and its timing rules.
public struct PhoenixSocketConfiguration: Sendable, Hashable {
    /// The WebSocket URL the transport opens: `<endpoint>/websocket?<params>&vsn=<version>`.
    public let url: URL
    /// WebSocket subprotocols to offer: the Phoenix 1.8 auth-token pair when a token is given.
    public let subprotocols: [String]
    /// The wire format (and the `vsn` in `url`).
    public let serializer: PhoenixSerializer
    /// Time between heartbeats; an unanswered heartbeat when the next is due closes the socket.
    public var heartbeatInterval: Duration
    /// Default timeout of a push (from the moment it is made, buffered or not).
    public var pushTimeout: Duration
    /// Options a channel gets unless `join` says otherwise.
    public var channelDefaults: PhoenixChannelOptions
    /// Socket reconnects.
    public var reconnectPolicy: PhoenixReconnectPolicy
    /// Delays before rejoining a channel after `phx_error` or a join timeout; the last repeats.
    public var rejoinDelays: [Duration]
    /// How long to wait for the transport to confirm a close the machine asked for.
    public var closeTimeout: Duration
    /// The largest frame, in bytes, the transport will send (nil: no limit). A push or join whose
    /// encoded frame is longer is never handed to the transport: the push completes
    /// `.cancelled(.tooLarge(size:limit:))`, the join fails `.tooLarge(size:limit:)`, and the
    /// connection goes on. Set it to the transport's own limit (`PhoenixSocket` uses the
    /// connection's `WebSocketLimits.maxMessageSize`), so a frame the transport would refuse
    /// never stops the frames behind it.
    public var maxOutboundFrameSize: Int?

    /// The reference client's rejoin schedule: 1, 2, 5 s, then 10 s.
    public static let referenceRejoinDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(5), .seconds(10)]

    /// Builds the URL from `endpoint` (`http`, `https`, `ws` or `wss`; http maps to ws, https to
    /// wss), appending `/websocket`, then `params` in order, then `vsn` last (a `vsn` in `params`
    /// or in the endpoint is replaced by the serializer's).
    ///
    /// - Throws: `PhoenixSocketError.invalidEndpoint` when the endpoint is not such a URL.
    public init(
        endpoint: String,
        params: [PhoenixURLParameter] = [],
        authToken: String? = nil,
        serializer: PhoenixSerializer = .jsonV2,
        heartbeatInterval: Duration = .seconds(30),
        pushTimeout: Duration = .seconds(10),
        channelDefaults: PhoenixChannelOptions = PhoenixChannelOptions(),
        reconnectPolicy: PhoenixReconnectPolicy = .default,
        rejoinDelays: [Duration] = PhoenixSocketConfiguration.referenceRejoinDelays,
        closeTimeout: Duration = .seconds(5),
        maxOutboundFrameSize: Int? = nil
    ) throws(PhoenixSocketError) {
        url = try PhoenixSocketURL.make(endpoint: endpoint, params: params, vsn: serializer.vsn)
        subprotocols = authToken.map(PhoenixSocketURL.authTokenSubprotocols(token:)) ?? []
        self.serializer = serializer
        self.heartbeatInterval = heartbeatInterval > .zero ? heartbeatInterval : .seconds(30)
        self.pushTimeout = pushTimeout
        self.channelDefaults = channelDefaults
        self.reconnectPolicy = reconnectPolicy
        self.rejoinDelays = rejoinDelays
        self.closeTimeout = closeTimeout
        self.maxOutboundFrameSize = maxOutboundFrameSize
    }

    /// The frame's size when it is over `maxOutboundFrameSize`, nil when it may be sent.
    func oversize(_ frame: PhoenixFrame) -> Int? {
        let size = frame.bytes.count
        guard let limit = maxOutboundFrameSize, size > limit else { return nil }
        return size
    }

    func rejoinDelay(forAttempt attempt: Int) -> Duration {
        guard let last = rejoinDelays.last else { return .zero }
        let index = attempt - 1
        return index >= 0 && index < rejoinDelays.count ? rejoinDelays[index] : last
    }
}

/// One query parameter of the socket URL (order is kept).
public struct PhoenixURLParameter: Sendable, Hashable {
    /// The name, as is (the URL percent-encodes it). `vsn` is the serializer's and is dropped.
    public var name: String
    /// The value, as is (the URL percent-encodes it).
    public var value: String

    /// A parameter `name=value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// URL and subprotocol building (Phoenix protocol section 1).
public enum PhoenixSocketURL {
    /// `<endpoint>/websocket?<params>&vsn=<vsn>`, with http(s) mapped to ws(s).
    public static func make(
        endpoint: String,
        params: [PhoenixURLParameter],
        vsn: String
    ) throws(PhoenixSocketError) -> URL {
        guard var components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw .invalidEndpoint(endpoint)
        }
        switch scheme {
        case "ws", "http": components.scheme = "ws"
        case "wss", "https": components.scheme = "wss"
        default: throw .invalidEndpoint(endpoint)
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix("/websocket") { path += "/websocket" }
        components.path = path
        var items = (components.queryItems ?? []).filter { $0.name != "vsn" }
        // `vsn` belongs to the serializer: a user parameter of that name is dropped.
        items += params.filter { $0.name != "vsn" }.map { URLQueryItem(name: $0.name, value: $0.value) }
        items.append(URLQueryItem(name: "vsn", value: vsn))
        components.queryItems = items
        // URLComponents leaves "+" alone in query values; servers read it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { throw .invalidEndpoint(endpoint) }
        return url
    }

    /// The Phoenix 1.8 auth-token subprotocols: `["phoenix", "base64url.bearer.phx.<token>"]`, the
    /// token in base64 without `=` padding.
    public static func authTokenSubprotocols(token: String) -> [String] {
        ["phoenix", "base64url.bearer.phx." + base64WithoutPadding(Array(token.utf8))]
    }

    static func base64WithoutPadding(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var word: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { word |= UInt32(byte) << (16 - 8 * offset) }
            let characters = chunk.count + 1
            for position in 0..<characters {
                output.append(alphabet[Int((word >> (18 - 6 * position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
