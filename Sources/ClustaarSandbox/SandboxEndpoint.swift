import Foundation
import PhoenixProtocol

/// Which request URIs the sandbox upgrades to a WebSocket, and with which serializer.
///
/// - The path must end in `/websocket` (`/socket/websocket`, `/short/socket/websocket`...).
/// - `vsn=1.0.0` or no `vsn`: JSON v1 (Phoenix's default); `vsn=2.0.0`: JSON v2 (text frames for
///   JSON, binary frames for binary payloads). Any other `vsn` is refused with 400; other query
///   parameters are ignored, as Phoenix ignores them.
/// - `reject=1` refuses the upgrade with 403, like a socket whose `connect/3` returns `:error`.
/// - A client that offers the `phoenix` subprotocol (Phoenix 1.8 auth tokens travel as a second
///   one, `base64url.bearer.phx.<token>`) gets `phoenix` back.
public enum SandboxEndpoint {
    /// The subprotocol Phoenix 1.8 clients offer beside their auth token.
    public static let phoenixSubprotocol = "phoenix"
    static let authTokenPrefix = "base64url.bearer.phx."

    /// What the server answers to the subprotocols a client offers (`Sec-WebSocket-Protocol`
    /// values, comma-separated): the one it selects, and the auth token found among them.
    public static func subprotocols(offered headerValues: [String]) -> (selected: String?, authToken: String?) {
        let offered = headerValues.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let selected = offered.contains(phoenixSubprotocol) ? phoenixSubprotocol : nil
        let token = offered.first { $0.hasPrefix(authTokenPrefix) }
            .flatMap { decodeBase64URL(String($0.dropFirst(authTokenPrefix.count))) }
        return (selected, token)
    }

    /// base64url without padding, as phoenix.js writes the token; nil if it is not valid.
    static func decodeBase64URL(_ text: String) -> String? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// Where a request goes.
    public enum Route: Sendable, Hashable {
        /// Upgrade, and speak this serializer.
        case webSocket(PhoenixSerializer)
        /// Answer with this HTTP status and text instead of upgrading.
        case refused(status: Int, reason: String)
    }

    /// The route of a request target such as `/socket/websocket?vsn=2.0.0`.
    public static func route(uri: String) -> Route {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        guard path.hasSuffix("/websocket") else {
            return .refused(status: 404, reason: "not found: the sandbox serves <endpoint>/websocket")
        }
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(keyValue[0])
                query[key] = keyValue.count == 2 ? String(keyValue[1]) : ""
            }
        }
        if query["reject"] == "1" { return .refused(status: 403, reason: "connection refused (reject=1)") }
        switch query["vsn"] {
        case nil, "1.0.0":
            return .webSocket(.jsonV1)
        case "2.0.0":
            return .webSocket(.jsonV2)
        case let other?:
            return .refused(status: 400, reason: "unsupported vsn \(other); use 1.0.0 or 2.0.0")
        }
    }
}
