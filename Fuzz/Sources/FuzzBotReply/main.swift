// Fuzz target: ClustaarModels' event payload decoding (the reply envelope rule, then the bot,
// agent, interlocutor and control payloads, and the join reply).
//
// Input: [type selector][the payload's bytes].
// Invariants (beyond "never traps" and typed errors): a decoded bot reply encodes, and the
// encoding decodes back to an equal reply; a decoding error names a kind and a description.
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
    guard let encoded = try? ClustaarJSON.encode(value) else { return }  // e.g. a number JSON cannot hold
    do {
        let again = try ClustaarJSON.decode(type, from: encoded[...])
        fuzzCheck(again == value, "round trip changed the \(type): \(value) became \(again)")
    } catch {
        fuzzCheck(false, "an encoded \(type) does not decode: \(error)")
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
