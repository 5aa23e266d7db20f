// Fuzz target: PhoenixProtocol's `PhoenixSerializer.jsonV2` decoding binary frames (the frames
// that carry binary payloads), as sent by a server (what the client reads) and by a client (what
// the sandbox server reads).
//
// Invariants (beyond "never traps"): a decoded message encodes, decodes back to itself, and
// encodes again to the same frame, for both senders; a binary frame's payload is always bytes,
// never JSON (as Phoenix's own V2 serializer reads it).
import CFuzzDriver
import FuzzSupport
import PhoenixProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    for sender in [PhoenixPeer.server, .client] {
        checkPhoenixRoundTrip(.jsonV2, .binary(bytes), from: sender)
        if let message = try? PhoenixSerializer.jsonV2.decode(.binary(bytes), from: sender),
            case .json = message.payload
        {
            fuzzCheck(false, "a binary frame decoded to a JSON payload: \(message)")
        }
    }
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
