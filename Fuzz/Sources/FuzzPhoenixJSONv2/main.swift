// Fuzz target: PhoenixProtocol's `PhoenixSerializer.jsonV2` decoding text frames from a server.
//
// Invariants (beyond "never traps"): a decoded message encodes, decodes back to itself, and
// encodes again to the same frame; a JSON payload is a slice no longer than its frame.
import CFuzzDriver
import FuzzSupport
import PhoenixProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    checkPhoenixRoundTrip(.jsonV2, .text(fuzzBytes(data, size)), from: .server)
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
