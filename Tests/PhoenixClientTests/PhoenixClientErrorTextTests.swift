import Testing

@testable import PhoenixClient

/// The exact text a user reads for every `PhoenixClientError` and channel cause: what happened,
/// with the server's own reply or close code, no type names, one line.
struct PhoenixClientErrorTextTests {
    static let longReply: String = "[" + String(repeating: "1,", count: 150) + "1]"  // 303 bytes
    static let longReplyCut: String = "[" + String(repeating: "1,", count: 99) + "1… (303 bytes)"

    static let texts: [(PhoenixClientError, String)] = [
        (
            PhoenixClientError.transport(TransportError(.tls, "self-signed certificate")),
            "TLS failed: self-signed certificate"
        ),
        (.notConnected, "not connected, and the reconnect attempts gave up"),
        (.invalidConfiguration("heartbeat interval 0"), "invalid configuration: heartbeat interval 0"),
        (.reservedTopic("phoenix"), "invalid configuration: the topic phoenix is reserved for the socket"),
        (.alreadyJoined(topic: "room:1"), "room:1 is already joined"),
        (
            .joinRejected(status: "error", response: .json(#"{"reason":"unauthorized"}"#)),
            #"the server rejected the join (status error): {"reason":"unauthorized"}"#
        ),
        (.joinTimedOut, "no answer to the join within the join timeout; the channel was left"),
        (.joinParamsUnavailable("no token"), "the join params provider failed: no token"),
        (.notJoined, "the channel is not joined"),
        (
            .replyRejected(status: "error", response: .json(#"{"reason":"bad request"}"#)),
            #"the server rejected the push (status error): {"reason":"bad request"}"#
        ),
        (
            .replyRejected(status: "error", response: .json(ArraySlice(longReply.utf8))),
            "the server rejected the push (status error): \(longReplyCut)"
        ),
        (
            .replyRejected(status: "error", response: .binary([1, 2, 3, 4])),
            "the server rejected the push (status error): <binary, 4 bytes>"
        ),
        (.replyTimedOut, "no reply within the push timeout; the server may still have handled the push"),
        (
            .outcomeUnknown(.connectionLost(code: .internalServerError, reason: "boom")),
            #"no reply, outcome unknown: the connection closed with code 1011 (internal server error): "boom""#
        ),
        (
            .outcomeUnknown(.connectionLost(code: CloseCode(4001), reason: "")),
            "no reply, outcome unknown: the connection closed with code 4001"
        ),
        (
            .outcomeUnknown(.connectionLost(code: nil, reason: "connection reset by peer")),
            "no reply, outcome unknown: the connection dropped (connection reset by peer)"
        ),
        (.outcomeUnknown(.heartbeatTimedOut), "no reply, outcome unknown: the server stopped answering heartbeats"),
        (.outcomeUnknown(.channelCrashed), "no reply, outcome unknown: the server's channel crashed"),
        (.cancelled(.left), "cancelled: the channel was left"),
        (.cancelled(.disconnected), "cancelled: the socket was disconnected"),
        (.cancelled(.closedByServer), "cancelled: the server closed the channel"),
        (.cancelled(.replaced), "cancelled: another join of the same topic replaced the channel"),
        (.cancelled(.taskCancelled), "cancelled: the task was cancelled"),
        (.cancelled(.joinFailed), "cancelled: the channel's join failed"),
        (.bufferFull(limit: 100), "not sent: 100 pushes are already waiting for the channel to join"),
        (
            .tooLarge(size: 2000, limit: 1024),
            "not sent: the message is 2000 bytes, over the connection's limit of 1024 bytes (maxMessageSize)"
        ),
        (
            .unencodable("topic is 300 bytes; binary v2 allows 255"),
            "cannot encode: topic is 300 bytes; binary v2 allows 255"
        ),
        (
            .undecodable("the reply payload is binary, not JSON"),
            "cannot read the payload: the reply payload is binary, not JSON"
        ),
    ]

    @Test(arguments: texts)
    func errorText(error: PhoenixClientError, text: String) {
        #expect(error.description == text)
        #expect("\(error)" == text)
    }

    @Test func channelErrorCauseTexts() {
        #expect(PhoenixChannelErrorCause.connectionLost.description == "the connection was lost")
        #expect(PhoenixChannelErrorCause.crashed(.json("{}")).description == "the server's channel crashed: {}")
        #expect(PhoenixChannelErrorCause.joinTimedOut.description == "no answer to the rejoin within the join timeout")
    }

    /// The causes come from the state machine's `PhoenixConnectionLoss`: a close frame's code
    /// (typed, shown with its name), none, or an unanswered heartbeat.
    @Test func connectionLossesBecomeOutcomeCauses() {
        #expect(
            PhoenixSocketCore.outcomeCause(.closed(code: 1011, reason: "boom"))
                == .connectionLost(code: .internalServerError, reason: "boom"))
        #expect(
            PhoenixSocketCore.outcomeCause(.closed(code: nil, reason: "reset"))
                == .connectionLost(code: nil, reason: "reset"))
        #expect(PhoenixSocketCore.outcomeCause(.heartbeatTimedOut) == .heartbeatTimedOut)
    }

    /// The `reason` of the `channel errored, rejoining` log line: JSON text, close codes by
    /// number and name, never bytes.
    @Test func channelErrorLogTexts() {
        #expect(PhoenixSocketCore.logText(.serverError(.json("{}"))) == "the server's channel crashed: {}")
        #expect(
            PhoenixSocketCore.logText(.connectionLost(.closed(code: 1011, reason: "boom")))
                == #"the connection closed with code 1011 (internal server error): "boom""#)
        #expect(
            PhoenixSocketCore.logText(.connectionLost(.heartbeatTimedOut)) == "the server stopped answering heartbeats")
    }
}
