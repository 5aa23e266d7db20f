import ClustaarModels
import PhoenixProtocol  // SplitMix64, the seeded generator
import Testing

/// Random JSON built from a generator.
struct RandomJSON {
    var generator: SplitMix64

    // Letters, digits, JSON escapes, controls, non-BMP and combining characters.
    static let alphabet: [Character] = Array("abcXYZ_09 \"\\/\n\t\u{0}\u{1F}é中😀\u{301}<>&")

    mutating func string(maxLength: Int = 12) -> String {
        let length = Int.random(in: 0...maxLength, using: &generator)
        return String((0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! })
    }

    mutating func number() -> JSONNumber {
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: return JSONNumber(Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 1: return JSONNumber(Int64.random(in: -1000...1000, using: &generator))
        case 2: return JSONNumber(Double.random(in: -1e6...1e6, using: &generator))
        default:
            // Any finite double, subnormals and huge exponents included.
            var value = Double(bitPattern: generator.next())
            while !value.isFinite { value = Double(bitPattern: generator.next()) }
            return JSONNumber(value)
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        let kinds = depth > 0 ? 6 : 4
        switch Int.random(in: 0..<kinds, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth: depth - 1) })
        default: return .object(object(depth: depth - 1))
        }
    }

    mutating func object(depth: Int) -> JSONObject {
        var object = JSONObject()
        for _ in 0..<Int.random(in: 0...5, using: &generator) {
            let key = string(maxLength: 8)
            if object[key] == nil { object[key] = value(depth: depth) }
        }
        return object
    }

    /// An object with a `type` no decoder knows.
    mutating func unknownTyped() -> JSONObject {
        var object = object(depth: 3)
        object["type"] = .string("x_" + string(maxLength: 10))
        return object
    }
}

@Suite("Unknown types (property)")
struct UnknownTypePropertyTests {
    static let seeds: [UInt64] = [1, 42, 0xC1A5_7AA2]
    static let casesPerSeed = 100

    @Test(arguments: seeds)
    func randomUnknownObjectsDecodeAsUnknownAndReencodeUnchanged(seed: UInt64) throws {
        var random = RandomJSON(generator: SplitMix64(seed: seed))
        for index in 0..<Self.casesPerSeed {
            let raw = random.unknownTyped()
            let original = JSONValue.object(raw)
            let bytes = try ClustaarJSON.encode(original)[...]
            let type = try #require(raw["type"]?.stringValue)
            let expected = try #require(UnknownObject(raw: raw))

            // As a top-level action, a button action, a target and a message body.
            let action = try ClustaarJSON.decode(BotAction.self, from: bytes)
            #expect(action == .unknown(expected), "seed \(seed) case \(index)")
            #expect(action.typeName == type)
            #expect(try encodedJSON(action) == original, "seed \(seed) case \(index)")

            let button = try ClustaarJSON.decode(ButtonAction.self, from: bytes)
            #expect(button == .unknown(expected))
            #expect(try encodedJSON(button) == original)

            let target = try ClustaarJSON.decode(Target.self, from: bytes)
            #expect(target == .unknown(expected))
            #expect(try encodedJSON(target) == original)

            let body = try ClustaarJSON.decode(InterlocutorReplyBody.self, from: bytes)
            #expect(body == .unknown(expected))
            #expect(try encodedJSON(body) == original)
        }
    }

    @Test(arguments: seeds)
    func unknownActionInsideAReplyNeverFailsIt(seed: UInt64) throws {
        var random = RandomJSON(generator: SplitMix64(seed: seed ^ 0xFFFF))
        for _ in 0..<Self.casesPerSeed / 4 {
            let raw = random.unknownTyped()
            let reply: JSONValue = [
                "fulfillment": [
                    "actions": [
                        ["type": "wait_action", "duration": 1], .object(raw),
                        [
                            "type": "send_quick_replies_action", "message": "m",
                            "buttons": [["title": "t", "action": .object(raw)]],
                        ],
                    ]
                ]
            ]
            let decoded = try ClustaarJSON.decode(BotReply.self, from: ClustaarJSON.encode(reply)[...])
            let unknown = try #require(UnknownObject(raw: raw))
            #expect(
                decoded.actions == [
                    .wait(WaitAction(duration: 1)), .unknown(unknown),
                    .quickReplies(
                        SendQuickRepliesAction(
                            message: "m", buttons: [QuickReply(title: "t", action: .unknown(unknown))])
                    ),
                ]
            )
        }
    }

    @Test func randomJSONValuesRoundTrip() throws {
        var random = RandomJSON(generator: SplitMix64(seed: 7))
        for _ in 0..<200 {
            let value = random.value(depth: 4)
            #expect(try roundTrip(value) == value, "\(value)")
        }
    }

    @Test func generatorIsDeterministic() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (0..<4).map { _ in first.next() }
        #expect(a == (0..<4).map { _ in second.next() })
        var zero = SplitMix64(seed: 0)
        // Reference output of SplitMix64 for seed 0.
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }
}
