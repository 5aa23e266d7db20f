import Foundation

/// The payload of a `control` event: a human agent took the conversation, or gave it back.
public struct ControlChange: Sendable, Hashable, Codable {
    /// True when an agent took control, false when it is released back to the bot (`value`).
    public var control: Bool
    /// When it happened; nil when absent or `null`, and for a change an SDK learnt from a rejoin's
    /// reply (which says who holds the conversation, not since when).
    public var at: ControlTimestamp?

    /// A change of control: `control` true when an agent takes it, at `at`.
    public init(control: Bool, at: ControlTimestamp? = nil) {
        self.control = control
        self.at = at
    }

    private enum CodingKeys: String, CodingKey {
        case control = "value"
        case at
    }
}

/// The `at` of a control change. The JS SDK types it as a number (unit unstated), servers have
/// been seen sending ISO 8601 text; anything else is kept raw so the event never fails over it.
public enum ControlTimestamp: Sendable, Hashable {
    /// A number, exactly as given.
    case number(JSONNumber)
    /// A string; see ``date`` for its ISO 8601 reading.
    case text(String)
    /// Any other JSON (bool, object, array), or `null` for a number beyond `Double`'s range.
    case other(JSONValue)

    /// The instant, when `at` is ISO 8601 text (with or without fractional seconds). Numbers
    /// are not converted: their unit is not documented.
    public var date: Date? {
        guard case .text(let text) = self else { return nil }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}

extension ControlTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        // A value that cannot be read at all (a number beyond Double) must not fail the event.
        switch (try? JSONValue(from: decoder)) ?? .null {
        case .number(let number): self = .number(number)
        case .string(let text): self = .text(text)
        case let value: self = .other(value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .number(let number): try number.encode(to: encoder)
        case .text(let text): try JSONValue.string(text).encode(to: encoder)
        case .other(let value): try value.encode(to: encoder)
        }
    }
}
