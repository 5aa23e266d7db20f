// Fuzz target: PhoenixProtocol's `PhoenixSerializer.binaryV2` decoding binary frames, as sent by
// a server (what the client reads) and by a client (what the sandbox server reads).
//
// Invariants (beyond "never traps"): a decoded message encodes, decodes back to itself, and
// encodes again to the same frame, for both senders; the JSON v2 serializer reads binary
// frames the same way.
import CFuzzDriver
import FuzzSupport
import PhoenixProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    for sender in [PhoenixPeer.server, .client] {
        checkPhoenixRoundTrip(.binaryV2, .binary(bytes), from: sender)
        let viaBinary = Result { () throws(PhoenixCodingError) in
            try PhoenixSerializer.binaryV2.decode(.binary(bytes), from: sender)
        }
        let viaJSON = Result { () throws(PhoenixCodingError) in
            try PhoenixSerializer.jsonV2.decode(.binary(bytes), from: sender)
        }
        fuzzCheck(viaBinary == viaJSON, "binaryV2 and jsonV2 read a binary frame differently")
    }
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
