import ClustaarModels

/// The sandbox reads and writes JSON with the package's own `JSONValue` (ClustaarModels): read
/// through `ClustaarJSON` (depth-limited, never traps on bad input), written with sorted keys so
/// every answer is byte-for-byte deterministic and user text is always escaped correctly.
extension JSONValue {
    /// Why bytes are not a JSON value.
    struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        var description: String
    }

    /// Parses one JSON value from UTF-8 bytes.
    static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> JSONValue {
        do {
            return try ClustaarJSON.decode(JSONValue.self, from: ArraySlice(bytes))
        } catch {
            throw ParseError(description: "invalid JSON payload")
        }
    }

    /// The compact JSON text of this value, keys sorted.
    var encoded: [UInt8] {
        // A tree of plain values always encodes (non-finite numbers are never built here), but
        // if it ever did not, `null` is still valid JSON.
        (try? ClustaarJSON.encode(self)) ?? Array("null".utf8)
    }

    /// An integer number.
    static func integer(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }
}
