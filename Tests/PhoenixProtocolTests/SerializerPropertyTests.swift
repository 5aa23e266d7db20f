import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Seeded property tests: random messages round-trip through each serializer; random and
/// mutated bytes never crash a decoder.
@Suite struct SerializerPropertyTests {
    @Test(arguments: PhoenixSerializer.allCases, [PhoenixPeer.client, .server])
    func randomMessagesRoundTrip(serializer: PhoenixSerializer, sender: PhoenixPeer) throws {
        var random = SplitMix64(seed: 0xC1A5_7AA2)
        for _ in 0..<2_000 {
            let message = RandomMessage.make(for: serializer, sender: sender, using: &random)
            let frame = try serializer.encode(message, from: sender)
            let decoded = try serializer.decode(frame, from: sender)
            var expected = message
            if case .binary = frame { expected.payload = .binary(message.payload.bytes) }
            #expect(decoded == expected, "\(message) -> \(frame)")
        }
    }

    @Test(arguments: PhoenixSerializer.allCases)
    func randomBytesNeverCrash(serializer: PhoenixSerializer) {
        var random = SplitMix64(seed: 42)
        var decodedCount = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...48, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            for sender in [PhoenixPeer.client, .server] {
                if (try? serializer.decode(.binary(bytes), from: sender)) != nil { decodedCount += 1 }
                if (try? serializer.decode(.text(bytes), from: sender)) != nil { decodedCount += 1 }
            }
        }
        // Random bytes are almost never a message; the point is that we got here without a trap.
        #expect(decodedCount < 20_000)
    }

    @Test func mutatedRecordedFramesNeverCrash() throws {
        var random = SplitMix64(seed: 7)
        let frames = try PhoenixTranscript.loadAll().flatMap { transcript in
            transcript.frames.compactMap(\.phoenixFrame).map { (transcript.serializer, $0) }
        }
        #expect(frames.count > 100)
        for (serializer, frame) in frames {
            let bytes = frame.bytes
            for _ in 0..<40 {
                var mutated = bytes
                switch Int.random(in: 0..<3, using: &random) {
                case 0: mutated = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
                case 1 where !bytes.isEmpty:
                    mutated[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                default:
                    mutated.insert(
                        UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
                }
                for candidate in [PhoenixFrame.text(mutated), .binary(mutated)] {
                    _ = try? serializer.decode(candidate, from: .server)
                    _ = try? serializer.decode(candidate, from: .client)
                }
            }
        }
    }
}

/// Random messages that each format can carry.
enum RandomMessage {
    static func make(for serializer: PhoenixSerializer, sender: PhoenixPeer, using random: inout SplitMix64)
        -> PhoenixMessage
    {
        // v2 puts a binary payload (and only that) in a binary frame.
        let binaryPayload = serializer == .jsonV2 && Int.random(in: 0..<4, using: &random) == 0
        let inBinaryFrame = binaryPayload
        let nameLimit = inBinaryFrame ? 12 : 40
        // Binary frames read an empty ref back as nil, so refs there are nil or non-empty.
        func ref() -> String? {
            if Bool.random(using: &random) { return nil }
            let value = string(maxLength: nameLimit, using: &random)
            return value.isEmpty ? "0" : value
        }
        var joinRef = ref()
        var messageRef = ref()
        let topic = string(maxLength: nameLimit, using: &random)
        let payload: PhoenixPayload =
            binaryPayload
            ? .binary(
                ArraySlice(
                    (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            )
            : .json(ArraySlice(json(depth: 0, using: &random).utf8))
        let replies = !(inBinaryFrame && sender == .client)
        if replies && Int.random(in: 0..<4, using: &random) == 0 {
            return .reply(
                joinRef: joinRef, ref: messageRef, topic: topic, status: string(maxLength: 8, using: &random),
                response: payload)
        }
        if inBinaryFrame && sender == .server {
            messageRef = nil  // server pushes and broadcasts carry no ref in binary frames
            if Bool.random(using: &random) { joinRef = nil }
        }
        var event = string(maxLength: nameLimit, using: &random)
        if event == PhoenixEvent.reply { event = "x" }
        return PhoenixMessage(joinRef: joinRef, ref: messageRef, topic: topic, event: event, payload: payload)
    }

    static let alphabet: [Character] = Array("abcXYZ019:_-. \"\\/\n\t\u{1}é€😀")

    static func string(maxLength: Int, using random: inout SplitMix64) -> String {
        var result = ""
        // `maxLength` counts bytes: the widest character here takes 4.
        for _ in 0..<Int.random(in: 0...(maxLength / 4), using: &random) {
            result.append(alphabet[Int.random(in: 0..<alphabet.count, using: &random)])
        }
        return result
    }

    static func json(depth: Int, using random: inout SplitMix64) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return "null"
        case 1: return Bool.random(using: &random) ? "true" : "false"
        case 2:
            return ["0", "-1", "3.25", "1e9", "-0.5E-3", "12345678901234567890"][Int.random(in: 0..<6, using: &random)]
        case 3, 4:
            let data = try? JSONSerialization.data(
                withJSONObject: string(maxLength: 24, using: &random), options: [.fragmentsAllowed])
            return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        case 5:
            let items = (0..<Int.random(in: 0...3, using: &random)).map { _ in json(depth: depth + 1, using: &random) }
            return "[" + items.joined(separator: Bool.random(using: &random) ? "," : " , ") + "]"
        default:
            let items = (0..<Int.random(in: 0...3, using: &random)).map { index in
                "\"k\(index)\": " + json(depth: depth + 1, using: &random)
            }
            return "{" + items.joined(separator: ",") + "}"
        }
    }
}
