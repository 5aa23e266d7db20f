// Fuzz target: ClustaarModels' event payload decoding (the reply envelope rule, then the bot,
// agent, interlocutor and control payloads, and the join reply).
//
// Input: [type selector][the payload's bytes].
// Invariants (beyond "never traps" and typed errors): a decoded payload encodes, its encoding
// decodes, and after one such normalisation encode → decode gives back an equal value; a
// decoding error has a description.
import CFuzzDriver
import ClustaarModels
import FuzzSupport

func decode<Value: Decodable & Encodable & Equatable>(_ type: Value.Type, _ payload: ArraySlice<UInt8>) {
    let content: EnvelopeContent<Value>
    do {
        content = try ClustaarEnvelope.decode(type, from: payload)
    } catch {
        fuzzCheck(!error.description.isEmpty, "a decoding error without a description")
        return
    }
    guard case .value(let value) = content else { return }
    // One encode → decode may normalise (documented: an unreadable `at` of a control change is
    // kept as `.other(null)`, which encodes as `null` and reads back as absent); after that,
    // encoding and decoding must be stable.
    guard let normalised = roundTrip(value) else { return }
    guard let again = roundTrip(normalised) else {
        fuzzCheck(false, "a normalised \(type) no longer encodes or decodes: \(normalised)")
        return
    }
    fuzzCheck(again == normalised, "round trip changed the \(type): \(normalised) became \(again)")
}

/// Encodes `value` and decodes the result; nil when JSON cannot hold the value (e.g. a number
/// beyond `Double`). Failing to decode our own encoding breaks an invariant.
func roundTrip<Value: Decodable & Encodable & Equatable>(_ value: Value) -> Value? {
    guard let encoded = try? ClustaarJSON.encode(value) else { return nil }
    do {
        return try ClustaarJSON.decode(Value.self, from: encoded[...])
    } catch {
        fuzzCheck(false, "an encoded \(Value.self) does not decode: \(error)")
        return nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInputReader(fuzzBytes(data, size))
    let selector = input.byte()
    let payload = input.rest()
    switch selector % 5 {
    case 0: decode(BotReply.self, payload)
    case 1: decode(AgentReply.self, payload)
    case 2: decode(InterlocutorReply.self, payload)
    case 3: decode(ControlChange.self, payload)
    default: decode(JoinStatus.self, payload)
    }
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
