import ClustaarSDK
import Testing

/// The exact text a user reads for every error kind: what happened, with the server's own
/// reason or code, no Swift type names, one line.
@Suite struct ErrorTextTests {
    @Test(arguments: [
        (
            ClustaarError.transport(TransportError(.tls, "self-signed certificate")),
            "TLS failed: self-signed certificate"
        ),
        (.notConnected, "not connected"),
        (
            .joinRejected(reason: ["reason": "unauthorized"]),
            #"the server rejected the join: {"reason":"unauthorized"}"#
        ),
        (.joinTimedOut, "no answer to the join within the join timeout"),
        (.alreadyJoined(topic: "interlocutor:42"), "interlocutor:42 is already joined through another channel object"),
        (.notJoined, "the channel is not joined"),
        (
            .replyRejected(status: "error", response: ["reason": "bad request"]),
            #"the server rejected the message (status error): {"reason":"bad request"}"#
        ),
        (.replyTimedOut, "no acknowledgement within the push timeout; the server may still have handled the message"),
        (
            .outcomeUnknown(.connectionLost(code: .internalServerError, reason: "boom")),
            #"no acknowledgement, outcome unknown: the connection closed with code 1011 (internal server error): "boom""#
        ),
        (
            .outcomeUnknown(.connectionLost(code: CloseCode(4001), reason: "")),
            "no acknowledgement, outcome unknown: the connection closed with code 4001"
        ),
        (
            .outcomeUnknown(.connectionLost(code: nil, reason: "connection reset by peer")),
            "no acknowledgement, outcome unknown: the connection dropped (connection reset by peer)"
        ),
        (
            .outcomeUnknown(.heartbeatTimedOut),
            "no acknowledgement, outcome unknown: the server stopped answering heartbeats"
        ),
        (.outcomeUnknown(.channelCrashed), "no acknowledgement, outcome unknown: the server's channel crashed"),
        (.cancelled(.channelClosedByServer), "cancelled: the server closed the channel"),
        (.cancelled(.left), "cancelled: the channel was left"),
        (.cancelled(.disconnected), "cancelled: the service disconnected"),
        (.cancelled(.taskCancelled), "cancelled: the task was cancelled"),
        (.bufferFull(limit: 100), "not sent: 100 messages are already waiting for the channel to join"),
        (.encoding("cannot encode: Double.nan"), "cannot encode: Double.nan"),
        (.invalidConfiguration("no join params"), "invalid configuration: no join params"),
        (
            .tooLarge(size: 2000, limit: 1024),
            "not sent: the message is 2000 bytes, over the connection's limit of 1024 bytes (maxMessageSize)"
        ),
    ])
    func clustaarErrors(error: ClustaarError, text: String) {
        #expect(error.description == text)
    }

    @Test func aLongServerResponseIsCut() {
        let error = ClustaarError.replyRejected(
            status: "error", response: ["detail": .string(String(repeating: "x", count: 300))])
        let text = error.description
        #expect(text.hasPrefix(#"the server rejected the message (status error): {"detail":"xxx"#))
        #expect(text.hasSuffix("… (313 bytes)"))
        #expect(text.count == "the server rejected the message (status error): ".count + 200 + "… (313 bytes)".count)
    }

    @Test(arguments: [
        (TransportError.Code.invalidRequest, "the URL x has no host", "invalid request: the URL x has no host"),
        (
            .unsupportedScheme, "scheme ftp:// is not a WebSocket scheme",
            "unsupported URL scheme: scheme ftp:// is not a WebSocket scheme"
        ),
        (.resolveFailed, "no such host", "could not resolve the host: no such host"),
        (.connectFailed, "connection refused", "could not connect: connection refused"),
        (.connectTimeout, "no connection within 10 seconds", "connecting timed out: no connection within 10 seconds"),
        (.tls, "self-signed certificate (err=18)", "TLS failed: self-signed certificate (err=18)"),
        (.handshakeTimeout, "no answer", "the WebSocket upgrade timed out: no answer"),
        (
            .handshakeRejected(status: 403), "the server answered 403 Forbidden",
            "the server refused the WebSocket upgrade (HTTP 403): the server answered 403 Forbidden"
        ),
        (.handshakeInvalid, "wrong accept key", "invalid WebSocket upgrade answer: wrong accept key"),
        (
            .protocolViolation, "a text message was not valid UTF-8",
            "WebSocket protocol violation: a text message was not valid UTF-8"
        ),
        (.messageTooBig, "inbound message over 16 MiB", "message too big: inbound message over 16 MiB"),
        (.connectionLost, "the connection ended", "connection lost: the connection ended"),
        (.closed, "send after close", "the connection is closed: send after close"),
        (.closeTimeout, "no close frame in 5 s", "no answer to the close: no close frame in 5 s"),
        (.cancelled, "", "cancelled"),
    ])
    func transportErrors(code: TransportError.Code, reason: String, text: String) {
        #expect(TransportError(code, reason).description == text)
        #expect(ClustaarError.transport(TransportError(code, reason)).description == text)
    }

    @Test func closeCodesShowTheirNumberAndName() {
        #expect(CloseCode.normalClosure.description == "1000 (normal closure)")
        #expect(CloseCode.abnormalClosure.description == "1006 (abnormal closure)")
        #expect(CloseCode.internalServerError.description == "1011 (internal server error)")
        #expect(CloseCode(1014).description == "1014 (bad gateway)")
        #expect(CloseCode(4001).description == "4001")
        #expect(CloseCode(4001).name == nil)
    }

    @Test func channelEventErrors() {
        let undecodable = ChannelEventError.undecodable(
            event: "bot_reply",
            error: ClustaarDecodingError(
                kind: .typeMismatch(expected: "string"), codingPath: [.key("body"), .key("id")], debugDescription: ""))
        #expect(undecodable.description == "cannot read a bot_reply event: body.id: expected string")
        let server = ChannelEventError.server(
            event: "bot_reply", error: ClustaarServerError(status: 500, error: "oops"))
        #expect(
            server.description
                == #"the server sent an error in place of a bot_reply event: server error (status 500): "oops""#)
    }
}

/// `ClustaarDecodingError` as a user reads it: where, and what was wrong.
@Suite struct DecodingErrorTextTests {
    static func error(_ text: String) -> String {
        do {
            _ = try ClustaarJSON.decode(JoinStatus.self, from: ArraySlice(text.utf8))
            return "decoded"
        } catch {
            return error.description
        }
    }

    @Test func eachKindSaysWhereAndWhat() {
        #expect(Self.error(#"{"control":}"#) == "invalid JSON: expected a value at byte 11")
        #expect(Self.error("") == "invalid JSON: expected a value at byte 0")
        #expect(Self.error(#"{"control":"yes"}"#) == "control: expected bool")
        let missing = ClustaarDecodingError(
            kind: .missingValue, codingPath: [.key("body"), .index(2)], debugDescription: "")
        #expect(missing.description == "body[2]: missing or null")
        #expect(
            ClustaarDecodingError(kind: .missingValue, codingPath: [], debugDescription: "").description
                == "payload: missing or null")
        let invalid = ClustaarDecodingError(
            kind: .invalidValue, codingPath: [.key("debug")], debugDescription: "debug must be the number 0 or 1")
        #expect(invalid.description == "debug: debug must be the number 0 or 1")
    }
}
