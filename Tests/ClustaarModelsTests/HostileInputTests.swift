import ClustaarModels
import PhoenixProtocol
import Testing

/// Huge and hostile payloads (fixtures README, "described, not stored"): each decodes or fails
/// with a typed error, never a crash.
@Suite("Hostile input")
struct HostileInputTests {
    func decodeReply(_ json: String) throws(ClustaarDecodingError) -> BotReply {
        try decodeReply(Array(json.utf8)[...])
    }

    func decodeReply(_ bytes: ArraySlice<UInt8>) throws(ClustaarDecodingError) -> BotReply {
        switch try ClustaarEnvelope.decode(BotReply.self, from: bytes) {
        case .value(let reply): return reply
        case .serverError(let error):
            throw ClustaarDecodingError(kind: .invalidValue, codingPath: [], debugDescription: "\(error)")
        }
    }

    func replyJSON(actions: String) -> String { #"{"fulfillment":{"actions":[\#(actions)]}}"# }

    @Test func tenMegabyteText() throws {
        let ascii = String(repeating: "a", count: 10_000_000)
        let reply = try decodeReply(replyJSON(actions: #"{"type":"send_text_action","alternatives":["\#(ascii)"]}"#))
        guard case .text(let text) = reply.actions.first else {
            Issue.record("expected a text action")
            return
        }
        #expect(text.alternatives.first?.utf8.count == 10_000_000)

        let emoji = String(repeating: "😀", count: 2_500_000)
        let unknown = try decodeReply(replyJSON(actions: #"{"type":"future","text":"\#(emoji)"}"#))
        #expect(
            unknown.actions.first.flatMap { action in
                if case .unknown(let object) = action {
                    object.raw["text"]?.stringValue?.unicodeScalars.count
                } else {
                    nil
                }
            } == 2_500_000)
    }

    @Test func hundredThousandActionsDecodeInLinearTime() throws {
        func reply(_ count: Int) -> [UInt8] {
            let action = #"{"type":"wait_action","duration":1}"#
            return Array(replyJSON(actions: Array(repeating: action, count: count).joined(separator: ",")).utf8)
        }
        let small = reply(10_000)
        let large = reply(100_000)
        let clock = ContinuousClock()
        var smallBest = Duration.seconds(1_000)
        var largeBest = Duration.seconds(1_000)
        var counts: [Int] = []
        // Best of several runs, interleaved, to damp the noise of a shared machine.
        for _ in 0..<2 {
            var reply: BotReply?
            for _ in 0..<2 {
                smallBest = min(smallBest, clock.measure { reply = try? decodeReply(small[...]) })
                counts.append(reply?.actions.count ?? -1)
            }
            largeBest = min(largeBest, clock.measure { reply = try? decodeReply(large[...]) })
            counts.append(reply?.actions.count ?? -1)
        }
        #expect(counts == [10_000, 10_000, 100_000, 10_000, 10_000, 100_000])
        // Ten times the actions: linear is ~10x; quadratic would be ~100x. Generous for a shared machine.
        let ratio = largeBest / smallBest
        #expect(ratio < 40, "10k: \(smallBest), 100k: \(largeBest)")
        print("decode 10k wait actions: \(smallBest), 100k: \(largeBest), ratio \(ratio)")
    }

    @Test func tenThousandLevelsOfNestingAreATypedError() throws {
        let arrays = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(throws: ClustaarDecodingError.self) {
            try decodeReply(replyJSON(actions: #"{"type":"x","a":\#(arrays)}"#))
        }
        #expect(error.kind == .invalidJSON)
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(throws: ClustaarDecodingError.self) {
            try decodeReply(replyJSON(actions: #"{"type":"x","a":\#(objects)}"#))
        }
    }

    @Test func deepButAcceptedNestingDecodesAsUnknown() throws {
        // Just under the parser's depth limit (512 with the reply's own levels).
        let depth = 500
        let arrays = String(repeating: "[", count: depth) + "7" + String(repeating: "]", count: depth)
        let reply = try decodeReply(replyJSON(actions: #"{"type":"x","a":\#(arrays)}"#))
        guard case .unknown(let object) = reply.actions.first else {
            Issue.record("expected unknown")
            return
        }
        var value = try #require(object.raw["a"])
        var levels = 0
        while case .array(let elements) = value, let first = elements.first {
            value = first
            levels += 1
        }
        #expect(levels == depth)
        #expect(value == 7)
    }

    /// Many scalars nested 500 levels deep inside an unknown action: reading them through
    /// JSONDecoder kind by kind costs time proportional to depth for every failed try (minutes
    /// for this payload); taken from the module's own parse, it is linear.
    @Test(arguments: ["", #","junk":1e400"#])
    func manyDeepScalarsDecodeQuickly(sibling: String) throws {
        let depth = 500
        let scalars = Array(repeating: #"1,"s",true,null,2.5"#, count: 4_000).joined(separator: ",")
        let nested = String(repeating: "[", count: depth) + scalars + String(repeating: "]", count: depth)
        let json = #"{"fulfillment":{"actions":[{"type":"x","a":\#(nested)}]}\#(sibling)}"#
        let clock = ContinuousClock()
        var reply: BotReply?
        let elapsed = try clock.measure { reply = try decodeReply(json) }
        guard case .unknown(let object) = try #require(reply?.actions.first) else {
            Issue.record("expected unknown")
            return
        }
        var value = try #require(object.raw["a"])
        for _ in 1..<depth { value = try #require(value[0]) }
        #expect(value.arrayValue?.count == 20_000)
        #expect(value[0] == 1 && value[1] == "s" && value[2] == true && value[3] == .null && value[4] == 2.5)
        #expect(elapsed < .seconds(20), "\(elapsed)")
        print("decode 20k scalars at depth 500 (sibling \(sibling.isEmpty ? "none" : sibling)): \(elapsed)")
    }

    /// 20k junk keys ahead of `fulfillment`, then 8k actions each with a button-like
    /// unknown: free-form lookups must not rescan the big root object for each action.
    @Test func manyKeysAheadOfManyUnknownActions() throws {
        let junk = (0..<20_000).map { #""junk\#($0)":\#($0)"# }.joined(separator: ",")
        let action = #"{"type":"x","p":{"q":[1]}}"#
        let quickReplies =
            #"{"type":"send_quick_replies_action","message":"m","buttons":[{"title":"t","action":\#(action)}]}"#
        let actions = Array(repeating: action + "," + quickReplies, count: 4_000).joined(separator: ",")
        let json = #"{\#(junk),"fulfillment":{"actions":[\#(actions)]},"session":{"values":{"k":"v"}}}"#
        let clock = ContinuousClock()
        var reply: BotReply?
        let elapsed = try clock.measure { reply = try decodeReply(json) }
        let decoded = try #require(reply)
        let unknown = try #require(UnknownObject(raw: ["type": "x", "p": ["q": [1]]]))
        #expect(decoded.actions.count == 8_000)
        #expect(decoded.actions.first == .unknown(unknown))
        #expect(
            decoded.actions.last
                == .quickReplies(
                    SendQuickRepliesAction(message: "m", buttons: [QuickReply(title: "t", action: .unknown(unknown))])
                )
        )
        #expect(decoded.session?.values == ["k": "v"])
        #expect(elapsed < .seconds(30), "\(elapsed)")
        print("decode 8k actions with unknowns behind 20k root keys: \(elapsed)")
    }

    @Test func oddNumbers() throws {
        func duration(_ text: String) throws(ClustaarDecodingError) -> Double? {
            let reply = try decodeReply(replyJSON(actions: #"{"type":"wait_action","duration":\#(text)}"#))
            if case .wait(let wait) = reply.actions.first { return wait.duration }
            return nil
        }
        #expect(try duration("-0") == 0)
        #expect(try duration("1.0000000000000002") == 1.000_000_000_000_000_2)
        #expect(try duration("12345678901234567890") == 12_345_678_901_234_567_890.0)
        #expect(try duration("7.0") == 7)
        #expect(try duration("1.5e0") == 1.5)
        // Out of Double range: Foundation rejects it; a typed error either way.
        let overflow = try #require(throws: ClustaarDecodingError.self) { try duration("1e400") }
        #expect(overflow.path == "fulfillment.actions[0].duration" || overflow.kind == .invalidJSON)

        let control = try ClustaarEnvelope.decode(
            ControlChange.self, from: Array(#"{"at":12345678901234567890,"value":true}"#.utf8)[...])
        guard case .number(let at) = try #require(control.value?.at) else {
            Issue.record("expected a number")
            return
        }
        #expect(at.uint64Value == 12_345_678_901_234_567_890)
        // `at` never fails the event, even when it cannot be read.
        let big = try ClustaarEnvelope.decode(ControlChange.self, from: Array(#"{"at":1e400,"value":true}"#.utf8)[...])
        #expect(big == .value(ControlChange(control: true, at: .other(nil))))
        let overflowInUnknown = try #require(throws: ClustaarDecodingError.self) {
            try decodeReply(replyJSON(actions: #"{"type":"x","n":-1e400}"#))
        }
        #expect(overflowInUnknown.path == "fulfillment.actions[0].n")
        let overflowInSession = try #require(throws: ClustaarDecodingError.self) {
            try decodeReply(#"{"fulfillment":{"actions":[]},"session":{"values":{"a":"b","big":[0,1e999]}}}"#)
        }
        #expect(overflowInSession.path == "session.values.big[1]")
        #expect(overflowInSession.kind == .invalidValue)
    }

    @Test func badStringsAreTypedErrors() throws {
        let invalidUTF8: [UInt8] =
            Array(replyJSON(actions: #"{"type":"send_text_action","alternatives":["#).utf8) + [0xFF, 0xFE, 0x22]
            + Array("]}]}}".utf8)
        let utf8Error = try #require(throws: ClustaarDecodingError.self) { try decodeReply(invalidUTF8[...]) }
        #expect(utf8Error.kind == .invalidJSON)
        let surrogate = try #require(throws: ClustaarDecodingError.self) {
            try decodeReply(replyJSON(actions: #"{"type":"send_text_action","alternatives":["\ud800"]}"#))
        }
        #expect(surrogate.kind == .invalidJSON)
        let nul = try decodeReply(replyJSON(actions: #"{"type":"send_text_action","alternatives":["a\u0000b"]}"#))
        #expect(nul.actions == [.text(SendTextAction(alternatives: ["a\u{0}b"]))])
        let pair = try decodeReply(replyJSON(actions: #"{"type":"send_text_action","alternatives":["\ud83d\ude00"]}"#))
        #expect(pair.actions == [.text(SendTextAction(alternatives: ["😀"]))])
    }

    /// Duplicate keys: the first occurrence wins (Foundation's JSONDecoder), deterministically.
    @Test func duplicateKeysFirstWins() throws {
        let reply = try decodeReply(replyJSON(actions: #"{"type":"send_text_action","type":"x","alternatives":["a"]}"#))
        #expect(reply.actions == [.text(SendTextAction(alternatives: ["a"]))])
        let other = try decodeReply(replyJSON(actions: #"{"type":"x","type":"send_text_action","alternatives":["a"]}"#))
        #expect(other.actions.first?.typeName == "x")
    }

    /// Every prefix and many single-byte corruptions of a rich fixture: decode or a typed error.
    @Test func truncatedAndCorruptedFixturesNeverTrap() throws {
        let bytes = Array(try Fixtures.bytes("bot_reply_rich.json"))
        var failures = 0
        for end in stride(from: 0, to: bytes.count, by: 7) {
            do { _ = try decodeReply(bytes[..<end]) } catch { failures += 1 }
        }
        #expect(failures == (bytes.count + 6) / 7)
        var random = SplitMix64(seed: 99)
        let replacements = Array("{}[]\",:0-eE.tfn\\ ".utf8) + [0x00, 0xFF, 0xC3]
        var decoded = 0
        for _ in 0..<400 {
            var corrupted = bytes
            let position = Int.random(in: 0..<bytes.count, using: &random)
            corrupted[position] = replacements.randomElement(using: &random)!
            if (try? decodeReply(corrupted[...])) != nil { decoded += 1 }
        }
        #expect(decoded < 400)
    }
}
