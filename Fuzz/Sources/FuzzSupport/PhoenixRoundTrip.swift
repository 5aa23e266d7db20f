import PhoenixProtocol

/// Decodes `frame` with `serializer` as sent by `sender`. A decoded message must survive
/// encode → decode unchanged, and its encoding must be stable (encoding the copy gives the same
/// frame): what a server sends is exactly what the client understood.
public func checkPhoenixRoundTrip(_ serializer: PhoenixSerializer, _ frame: PhoenixFrame, from sender: PhoenixPeer) {
    let message: PhoenixMessage
    do {
        message = try serializer.decode(frame, from: sender)
    } catch {
        fuzzCheck(!error.description.isEmpty, "an error without a description")
        return
    }
    if case .json(let bytes) = message.payload {
        fuzzCheck(bytes.count <= frame.bytes.count, "a payload longer than its frame")
    }
    let encoded: PhoenixFrame
    do {
        encoded = try serializer.encode(message, from: sender)
    } catch {
        fuzzCheck(false, "a decoded message does not encode: \(error) (\(message))")
        return
    }
    do {
        let again = try serializer.decode(encoded, from: sender)
        fuzzCheck(again == message, "round trip changed the message: \(message) became \(again)")
        let encodedAgain = try serializer.encode(again, from: sender)
        fuzzCheck(encodedAgain == encoded, "encoding is not stable: \(encoded) then \(encodedAgain)")
    } catch {
        fuzzCheck(false, "a re-encoded message does not decode: \(error) (\(encoded))")
    }
}
