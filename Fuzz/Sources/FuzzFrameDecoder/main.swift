// Fuzz target: WebSocketProtocol's frame decoder, then the connection state machine, on
// arbitrary server bytes cut at arbitrary points.
//
// Input: [limit selector][split count n][n chunk sizes][the byte stream].
// Invariants: the frames (and the error) do not depend on the split points; every frame is at
// most the frame limit; re-encoding the frames gives back exactly the bytes they were read from
// (server frames are unmasked and minimally encoded, so the wire form is unique); delivered
// messages respect the message limit and text is valid UTF-8; nothing is delivered after the
// inbound sequence ended.
import CFuzzDriver
import FuzzSupport
import TransportCore

@testable import WebSocketProtocol

/// What one pass of the decoder produced.
struct DecodeOutcome: Equatable {
    var frames: [WebSocketFrame] = []
    var error: WebSocketProtocolError?
}

func decodeAll(_ pieces: [ArraySlice<UInt8>], maxFrameSize: Int) -> DecodeOutcome {
    var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: maxFrameSize)
    var outcome = DecodeOutcome()
    for piece in pieces {
        decoder.append(piece)
        do {
            while let frame = try decoder.nextFrame() { outcome.frames.append(frame) }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInputReader(fuzzBytes(data, size))
    let limits = [0, 1, 2, 125, 126, 127, 300, 65_535, 65_536, 1 << 20]
    let maxFrameSize = input.pick(limits)
    let maxMessageSize = input.pick(limits)
    let splitCount = Int(input.byte() % 16)
    let sizes = input.take(upTo: splitCount)
    let stream = input.rest()

    let whole = decodeAll([stream], maxFrameSize: maxFrameSize)
    let split = decodeAll(chunks(of: stream, sizes: sizes), maxFrameSize: maxFrameSize)
    fuzzCheck(whole == split, "split points changed the result: \(whole) vs \(split)")

    var reencoded: [UInt8] = []
    for frame in whole.frames {
        fuzzCheck(frame.payload.count <= maxFrameSize, "frame of \(frame.payload.count) over \(maxFrameSize)")
        fuzzCheck(frame.maskKey == nil && frame.reservedBits == 0, "server frame kept a mask or reserved bits")
        reencoded += WebSocketFrameEncoder.encode(frame)
    }
    fuzzCheck(stream.starts(with: reencoded), "re-encoded frames differ from the bytes they came from")

    var machine = WebSocketConnectionStateMachine(maxMessageSize: maxMessageSize)
    var finished = false
    var actions: [WebSocketConnectionStateMachine.Action] = []
    for frame in whole.frames { actions += machine.frameReceived(frame) }
    if let error = whole.error { actions += machine.decodingFailed(error) }
    for action in actions {
        switch action {
        case .deliver(let message):
            fuzzCheck(!finished, "message delivered after the inbound sequence ended")
            switch message {
            case .text(let bytes):
                fuzzCheck(bytes.count <= maxMessageSize, "text of \(bytes.count) over \(maxMessageSize)")
                fuzzCheck(String(validating: bytes, as: UTF8.self) != nil, "delivered text is not UTF-8")
            case .binary(let bytes):
                fuzzCheck(bytes.count <= maxMessageSize, "binary of \(bytes.count) over \(maxMessageSize)")
            case .close(let code, _):
                if let code { fuzzCheck(code.rawValue >= 1000, "close code \(code.rawValue) delivered") }
            }
        case .finishInbound:
            fuzzCheck(!finished, "inbound sequence finished twice")
            finished = true
        case .send(let opcode, let payload):
            fuzzCheck(opcode.isControl && payload.count <= 125, "sent \(opcode) with \(payload.count) bytes")
        case .startCloseTimer, .closeSocket:
            break
        }
    }
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
