/// Reading `presence_state` and `presence_diff` payloads with the envelope's `JSONScanner`: each
/// meta is kept as its JSON text, with its `phx_ref` (and `phx_ref_prev`) read out.
///
/// Shapes (Phoenix.Presence): a state is `{KEY: {"metas": [META...], ...}}`; a diff is
/// `{"joins": STATE, "leaves": STATE}`; a meta is an object with a string `phx_ref`. Other fields
/// are skipped. A key given twice counts once, the later value in the earlier place (as
/// JavaScript reads such an object).
extension PhoenixPresenceEntry {
    /// The presences of a `presence_state` payload, in wire order.
    public static func decodeState(_ payload: PhoenixPayload) throws(PhoenixPresenceError) -> [PhoenixPresenceEntry] {
        guard case .json(let bytes) = payload else { throw .binaryPayload }
        return try PresencePayloadReader.read(bytes, diff: false).joins
    }
}

extension PhoenixPresenceDiff {
    /// Reads a `presence_diff` payload.
    public init(decoding payload: PhoenixPayload) throws(PhoenixPresenceError) {
        guard case .json(let bytes) = payload else { throw .binaryPayload }
        self = try PresencePayloadReader.read(bytes, diff: true)
    }
}

enum PresencePayloadReader {
    /// A state (as the joins of the result) or a diff.
    static func read(_ bytes: ArraySlice<UInt8>, diff: Bool) throws(PhoenixPresenceError) -> PhoenixPresenceDiff {
        let array = Array(bytes)
        do {
            return try array.withUnsafeBufferPointer { buffer throws(PhoenixCodingError) in
                var scanner = JSONScanner(buffer)
                let result: PhoenixPresenceDiff
                if diff {
                    result = try readDiff(&scanner)
                } else {
                    result = PhoenixPresenceDiff(joins: try readEntries(&scanner, what: "a presence state"))
                }
                try scanner.expectEnd()
                return result
            }
        } catch .wrongShape(let what) {
            throw .wrongShape(what)
        } catch {
            throw .invalidJSON(error)
        }
    }

    private static func readDiff(_ scanner: inout JSONScanner) throws(PhoenixCodingError) -> PhoenixPresenceDiff {
        guard scanner.consume(UInt8(ascii: "{")) else { throw .wrongShape("a diff must be an object") }
        var joins: [PhoenixPresenceEntry]?
        var leaves: [PhoenixPresenceEntry]?
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.readKey()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if scanner.bytesEqual(key, "joins") {
                    joins = try readEntries(&scanner, what: "joins")
                } else if scanner.bytesEqual(key, "leaves") {
                    leaves = try readEntries(&scanner, what: "leaves")
                } else {
                    _ = try scanner.skipValue()
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        }
        guard let joins else { throw .wrongShape("a diff without joins") }
        guard let leaves else { throw .wrongShape("a diff without leaves") }
        return PhoenixPresenceDiff(joins: joins, leaves: leaves)
    }

    /// `{KEY: {"metas": [...]}, ...}`.
    private static func readEntries(_ scanner: inout JSONScanner, what: String) throws(PhoenixCodingError)
        -> [PhoenixPresenceEntry]
    {
        guard scanner.consume(UInt8(ascii: "{")) else { throw .wrongShape("\(what) must be an object") }
        var entries: [PhoenixPresenceEntry] = []
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                guard scanner.peek() == UInt8(ascii: "\"") else { throw scanner.error("an object key") }
                let key = try scanner.readString(.payload)
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                entries.append(PhoenixPresenceEntry(key: key, metas: try readPresence(&scanner, key: key)))
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        }
        return PhoenixPresenceEntry.merged(entries)
    }

    /// `{"metas": [...], ...}`: the metas.
    private static func readPresence(_ scanner: inout JSONScanner, key: String) throws(PhoenixCodingError)
        -> [PhoenixPresenceMeta]
    {
        guard scanner.consume(UInt8(ascii: "{")) else { throw .wrongShape("the presence of \(key) must be an object") }
        var metas: [PhoenixPresenceMeta]?
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let field = try scanner.readKey()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if scanner.bytesEqual(field, "metas") {
                    metas = try readMetas(&scanner, key: key)
                } else {
                    _ = try scanner.skipValue()
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        }
        guard let metas else { throw .wrongShape("the presence of \(key) has no metas") }
        return metas
    }

    private static func readMetas(_ scanner: inout JSONScanner, key: String) throws(PhoenixCodingError)
        -> [PhoenixPresenceMeta]
    {
        guard scanner.consume(UInt8(ascii: "[")) else { throw .wrongShape("the metas of \(key) must be an array") }
        var metas: [PhoenixPresenceMeta] = []
        if !scanner.consume(UInt8(ascii: "]")) {
            repeat {
                metas.append(try readMeta(&scanner, key: key))
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
        }
        return metas
    }

    /// One meta object: its text, `phx_ref` and `phx_ref_prev`.
    private static func readMeta(_ scanner: inout JSONScanner, key: String) throws(PhoenixCodingError)
        -> PhoenixPresenceMeta
    {
        guard scanner.peek() == UInt8(ascii: "{") else { throw .wrongShape("a meta of \(key) must be an object") }
        let start = scanner.index
        scanner.index += 1
        var ref: String?
        var previousRef: String?
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let field = try scanner.readKey()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if scanner.bytesEqual(field, "phx_ref") {
                    guard scanner.peek() == UInt8(ascii: "\"") else {
                        throw .wrongShape("a phx_ref of \(key) must be a string")
                    }
                    ref = try scanner.readString(.payload)
                } else if scanner.bytesEqual(field, "phx_ref_prev") {
                    guard scanner.peek() == UInt8(ascii: "\"") else {
                        _ = try scanner.skipValue()  // null or absent: no previous ref
                        continue
                    }
                    previousRef = try scanner.readString(.payload)
                } else {
                    _ = try scanner.skipValue()
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        }
        guard let ref else { throw .wrongShape("a meta of \(key) has no phx_ref") }
        return PhoenixPresenceMeta(
            ref: ref, previousRef: previousRef, json: Array(scanner.bytes[start..<scanner.index]))
    }
}
