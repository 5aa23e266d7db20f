/// A JSON object: its members in order, compared as a JSON object (order does not matter).
///
/// Order: members keep the order given in code, or the wire order when decoded through
/// ``ClustaarJSON`` or ``ClustaarEnvelope``. A plain `JSONDecoder` does not report key order, so
/// there members come sorted by key, which at least is deterministic. A key may appear twice
/// (as on the wire); the first member wins, as in `JSONDecoder`: equality, hashing, lookup and
/// encoding all follow that rule.
public struct JSONObject: Sendable {
    /// One `"key": value` member.
    public struct Member: Sendable, Hashable {
        /// The member's key.
        public var key: String
        /// The member's value.
        public var value: JSONValue

        /// A member `key`: `value`.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members, in order.
    public var members: [Member]

    /// An object with `members`, in order.
    public init(_ members: [Member] = []) { self.members = members }

    /// The value of the first member named `key`. Setting replaces that member's value in place,
    /// appends a new member, or (with nil) removes every member with that key.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            if let newValue {
                if let index = members.firstIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append(Member(key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    /// The keys, in order, first occurrences only.
    public var keys: [String] { uniqueMembers.map(\.key) }

    /// The number of distinct keys.
    public var count: Int { uniqueMembers.count }

    /// Whether the object has no member.
    public var isEmpty: Bool { members.isEmpty }

    /// The members with later duplicates of a key dropped.
    var uniqueMembers: [Member] {
        var seen = Set<String>()
        return members.filter { seen.insert($0.key).inserted }
    }

    /// The object as a dictionary (first member wins).
    public var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members == rhs.members || lhs.dictionary == rhs.dictionary
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine each member's own hash commutatively.
        let entries = dictionary
        var combined = 0
        for (key, value) in entries {
            var memberHasher = Hasher()
            memberHasher.combine(key)
            memberHasher.combine(value)
            combined = combined &+ memberHasher.finalize()
        }
        hasher.combine(entries.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { Member(key: $0.0, value: $0.1) })
    }
}

extension JSONObject: Codable {
    public init(from decoder: any Decoder) throws {
        if let value = try ParsedPayload.value(for: decoder) {
            guard case .object(let object) = value else {
                throw DecodingError.typeMismatch(
                    [String: JSONValue].self,
                    DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "expected an object")
                )
            }
            self = object
            return
        }
        try self.init(decoding: decoder.container(keyedBy: AnyCodingKey.self))
    }

    init(decoding container: KeyedDecodingContainer<AnyCodingKey>) throws {
        let keys = container.allKeys.sorted { $0.stringValue < $1.stringValue }
        var members: [Member] = []
        members.reserveCapacity(keys.count)
        for key in keys {
            members.append(Member(key: key.stringValue, value: try container.decode(JSONValue.self, forKey: key)))
        }
        self.init(members)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for member in uniqueMembers {
            try container.encode(member.value, forKey: AnyCodingKey(member.key))
        }
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String { JSONValue.object(self).description }
}
