import TransportCore

/// The client side of an open WebSocket connection, without I/O (sans-I/O, like wsproto): frames
/// and events go in, actions come out for the I/O layer to carry out.
///
/// Rules (RFC 6455):
/// - ping → pong with the same payload, while open; pongs are ignored.
/// - Fragmented messages are reassembled; control frames may arrive between fragments. A
///   continuation with no message in progress, or a new data frame inside one, fails with 1002.
/// - Text is validated as UTF-8 fragment by fragment, failing at the first bad fragment → 1007.
/// - A message over `maxMessageSize` → 1009.
/// - Close: the server's close frame (code valid on the wire, reason valid UTF-8, never one byte)
///   is echoed with its code; our own close starts the close timer. After the handshake the
///   client waits for the server to end TCP, until the timer fires.
/// - Failing the connection sends a close with the rule's code, ends the inbound sequence with
///   a `TransportError`, and stops delivering messages.
package struct WebSocketConnectionStateMachine: Sendable {
    /// What the I/O layer must do, in order.
    package enum Action: Sendable, Hashable {
        /// Hand a whole message (or the server's `.close`) to the inbound sequence.
        case deliver(WebSocketMessage)
        /// Write a control frame (masked by the I/O layer), after the frames already queued.
        case send(WebSocketOpcode, [UInt8])
        /// End the inbound sequence: cleanly (nil) after a `.close`, or with an error.
        case finishInbound(TransportError?)
        /// Start the close timer; `closeTimerFired()` when it expires.
        case startCloseTimer
        /// Close the TCP connection now: the connection is over.
        case closeSocket
    }

    private enum State: Sendable {
        case open
        /// We sent a close frame; `failure` is set when we were failing the connection.
        case closeSent(failure: TransportError?)
        /// Both close frames went by (or we gave up): waiting for the server to end TCP.
        case closed
    }

    private struct PartialMessage: Sendable {
        var isText: Bool
        var bytes: [UInt8]
        var validator: UTF8Validator
    }

    private var state = State.open
    private var partial: PartialMessage?
    private let maxMessageSize: Int

    /// An open connection that refuses messages over `maxMessageSize` bytes with 1009.
    package init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// Whether the user may still send data frames.
    package var canSend: Bool {
        if case .open = state { return true }
        return false
    }

    /// Whether the connection is over (waiting only for TCP to end).
    package var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// A frame arrived from the server.
    package mutating func frameReceived(_ frame: WebSocketFrame) -> [Action] {
        switch state {
        case .closed:
            return []  // after the closing handshake nothing more is read
        case .closeSent(let failure):
            if frame.opcode == .close {
                state = .closed
                if failure != nil { return [] }  // the inbound sequence already ended with the error
                switch Self.parseClose(frame.payload) {
                case .success(let (code, reason)):
                    return [
                        .deliver(.close(code: code.map(CloseCode.init(rawValue:)), reason: reason)),
                        .finishInbound(nil),
                    ]
                case .failure(let error):
                    return [.finishInbound(Self.transportError(for: error)), .closeSocket]
                }
            }
            if failure != nil || !frame.opcode.isDataOrContinuation { return [] }
            // After our own close the server may still finish what it was sending.
            switch reassemble(frame) {
            case .success(let message): return message.map { [.deliver($0)] } ?? []
            case .failure: return []
            }
        case .open:
            switch frame.opcode {
            case .ping:
                return [.send(.pong, frame.payload)]
            case .pong:
                return []
            case .close:
                switch Self.parseClose(frame.payload) {
                case .success(let (code, reason)):
                    state = .closed
                    let echo = WebSocketFrameEncoder.closePayload(code: code, reason: "")
                    return [
                        .send(.close, echo),
                        .deliver(.close(code: code.map(CloseCode.init(rawValue:)), reason: reason)),
                        .finishInbound(nil),
                        .startCloseTimer,
                    ]
                case .failure(let error):
                    return fail(error)
                }
            case .text, .binary, .continuation:
                switch reassemble(frame) {
                case .success(let message): return message.map { [.deliver($0)] } ?? []
                case .failure(let error): return fail(error)
                }
            }
        }
    }

    /// The frame decoder found a broken rule.
    package mutating func decodingFailed(_ error: WebSocketProtocolError) -> [Action] {
        fail(error)
    }

    /// The user asked to close. Codes that may not be on the wire (1005, 1006, 1015...) send a
    /// close frame without a code. Does nothing unless the connection is open.
    package mutating func closeRequested(code: CloseCode, reason: String) -> [Action] {
        guard case .open = state else { return [] }
        state = .closeSent(failure: nil)
        let payload =
            code.isValidOnWire
            ? WebSocketFrameEncoder.closePayload(code: code.rawValue, reason: Self.truncated(reason)) : []
        return [.send(.close, payload), .startCloseTimer]
    }

    /// The close timer expired.
    package mutating func closeTimerFired() -> [Action] {
        switch state {
        case .open:
            return []
        case .closeSent(let failure):
            state = .closed
            if failure != nil { return [.closeSocket] }
            return [
                .finishInbound(TransportError(.closeTimeout, "the server did not answer our close frame in time")),
                .closeSocket,
            ]
        case .closed:
            return [.closeSocket]
        }
    }

    /// The server ended TCP (`midFrame`: with part of a frame still unread).
    package mutating func endOfStream(midFrame: Bool) -> [Action] {
        switch state {
        case .open, .closeSent(failure: nil):
            state = .closed
            let reason =
                midFrame
                ? "the server closed TCP in the middle of a frame (1006)"
                : "the server closed TCP without a close frame (1006)"
            return [.finishInbound(TransportError(.connectionLost, reason)), .closeSocket]
        case .closeSent, .closed:
            state = .closed
            return [.closeSocket]
        }
    }

    /// A read or write failed.
    package mutating func ioFailed(_ description: String) -> [Action] {
        switch state {
        case .open, .closeSent(failure: nil):
            state = .closed
            return [.finishInbound(TransportError(.connectionLost, description)), .closeSocket]
        case .closeSent, .closed:
            state = .closed
            return [.closeSocket]
        }
    }

    private mutating func fail(_ error: WebSocketProtocolError) -> [Action] {
        guard case .open = state else {
            state = .closed
            return [.closeSocket]
        }
        let transportError = Self.transportError(for: error)
        state = .closeSent(failure: transportError)
        partial = nil
        return [
            .send(.close, WebSocketFrameEncoder.closePayload(code: error.closeCode, reason: "")),
            .finishInbound(transportError),
            .startCloseTimer,
        ]
    }

    /// The `TransportError` that ends the inbound sequence when the decoder fails with `error`.
    package static func transportError(for error: WebSocketProtocolError) -> TransportError {
        switch error.closeCode {
        case 1009: TransportError(.messageTooBig, "\(error); closed with 1009")
        default: TransportError(.protocolViolation, "\(error); closed with \(error.closeCode)")
        }
    }

    private mutating func reassemble(_ frame: WebSocketFrame) -> Result<WebSocketMessage?, WebSocketProtocolError> {
        if frame.opcode == .continuation {
            guard var message = partial else { return .failure(.unexpectedContinuation) }
            partial = nil  // avoid a copy while appending
            guard message.bytes.count + frame.payload.count <= maxMessageSize else {
                return .failure(.messageTooBig(limit: maxMessageSize))
            }
            if message.isText {
                guard message.validator.validate(frame.payload) else { return .failure(.invalidUTF8) }
            }
            message.bytes.append(contentsOf: frame.payload)
            guard frame.fin else {
                partial = message
                return .success(nil)
            }
            if message.isText && !message.validator.isComplete { return .failure(.invalidUTF8) }
            return .success(message.isText ? .text(message.bytes) : .binary(message.bytes))
        }
        guard partial == nil else { return .failure(.expectedContinuation) }
        guard frame.payload.count <= maxMessageSize else { return .failure(.messageTooBig(limit: maxMessageSize)) }
        let isText = frame.opcode == .text
        var validator = UTF8Validator()
        if isText {
            guard validator.validate(frame.payload) else { return .failure(.invalidUTF8) }
        }
        guard frame.fin else {
            partial = PartialMessage(isText: isText, bytes: frame.payload, validator: validator)
            return .success(nil)
        }
        if isText && !validator.isComplete { return .failure(.invalidUTF8) }
        return .success(isText ? .text(frame.payload) : .binary(frame.payload))
    }

    /// Code and reason of a close payload (no code when empty).
    package static func parseClose(_ payload: [UInt8]) -> Result<(UInt16?, String), WebSocketProtocolError> {
        if payload.isEmpty { return .success((nil, "")) }
        guard payload.count >= 2 else { return .failure(.closePayloadTooShort) }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard CloseCode(code).isValidOnWire else { return .failure(.invalidCloseCode(code)) }
        let reasonBytes = Array(payload[2...])
        guard UTF8Validator.isValid(reasonBytes) else { return .failure(.invalidUTF8) }
        return .success((code, String(decoding: reasonBytes, as: UTF8.self)))
    }

    /// `reason` cut to the 123 bytes a close frame has room for, on a character boundary.
    package static func truncated(_ reason: String) -> String {
        let limit = WebSocketFrame.maxControlPayload - 2
        guard reason.utf8.count > limit else { return reason }
        var result = ""
        for character in reason {
            if result.utf8.count + character.utf8.count > limit { break }
            result.append(character)
        }
        return result
    }
}

extension WebSocketOpcode {
    var isDataOrContinuation: Bool { self == .text || self == .binary || self == .continuation }
}
