import Foundation
import PhoenixClient

/// Everything phx-client prints, one whole line at a time, from any thread: readable text, or
/// with `--json` one JSON object per line. It also remembers when it last printed, for
/// `--exit-after-idle`.
final class Output: Sendable {
    let json: Bool
    private let lastLine = Locked(ContinuousClock.now)

    init(json: Bool) { self.json = json }

    /// One event: `json` members (keys and JSON texts) or a text line.
    func line(json members: [(String, String)], text: String) {
        lastLine.withLock { $0 = .now }
        if json {
            let body = members.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",")
            write("{\(body)}")
        } else {
            write(text)
        }
    }

    func error(_ message: String) {
        line(
            json: [("event", JSONText.string("error")), ("message", JSONText.string(message))],
            text: "error: \(message)")
    }

    func connection(_ state: PhoenixConnectionState) {
        let head = ("event", JSONText.string("connection"))
        switch state {
        case .connecting: line(json: [head, ("state", JSONText.string("connecting"))], text: "(connecting)")
        case .open: line(json: [head, ("state", JSONText.string("open"))], text: "(connected)")
        case .closed(let code, let reason):
            line(
                json: [
                    head, ("state", JSONText.string("closed")), ("code", code.map { String($0.rawValue) } ?? "null"),
                    ("reason", JSONText.string(reason)),
                ],
                text: "(connection closed\(code.map { " \($0)" } ?? ""))")
        case .error(let error):
            line(
                json: [head, ("state", JSONText.string("error")), ("message", JSONText.string("\(error)"))],
                text: "(connection error: \(error))")
        case .reconnecting(let attempt, let delay):
            line(
                json: [head, ("state", JSONText.string("reconnecting")), ("attempt", String(attempt))],
                text: "(reconnecting, attempt \(attempt) in \(delay))")
        }
    }

    /// The updates of one presence event: a sync line (joins, leaves, everyone present), or an
    /// error for a payload that is not presence.
    func presence(_ updates: [PhoenixPresenceUpdate]) {
        var joins: [String] = []
        var leaves: [String] = []
        var present: [String] = []
        for update in updates {
            switch update {
            case .join(let key, _, _): if !joins.contains(key) { joins.append(key) }
            case .leave(let key, _, _): if !leaves.contains(key) { leaves.append(key) }
            case .synced(let list): present = list.map(\.key)
            case .invalidPayload(let event, let problem):
                error("\(event): \(problem)")
                return
            }
        }
        func array(_ keys: [String]) -> String { "[" + keys.map(JSONText.string).joined(separator: ",") + "]" }
        let changes = joins.map { "+\($0)" } + leaves.map { "-\($0)" }
        line(
            json: [
                ("event", JSONText.string("presence")), ("joins", array(joins)), ("leaves", array(leaves)),
                ("list", array(present)),
            ],
            text: "(presence: \(changes.isEmpty ? "no change" : changes.joined(separator: " ")); "
                + "present: \(present.isEmpty ? "nobody" : present.joined(separator: ", ")))")
    }

    /// Returns once nothing was printed for `idle`.
    func waitUntilIdle(_ idle: Duration) async {
        while true {
            let quietFor = ContinuousClock.now - lastLine.withLock { $0 }
            if quietFor >= idle { return }
            try? await Task.sleep(for: idle - quietFor)
        }
    }

    private func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// JSON texts for output lines. Payloads are printed as the server sent them (they are JSON
/// already), on one line.
enum JSONText {
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += String(format: "\\u%04x", control.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON payload's text on one line (JSON whitespace may hold line breaks; strings cannot),
    /// or a binary payload as a base64 string.
    static func value(_ payload: PhoenixPayload) -> String {
        switch payload {
        case .json(let bytes):
            return String(decoding: bytes.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }, as: UTF8.self)
        case .binary(let bytes): return string(Data(bytes).base64EncodedString())
        }
    }

    /// `"payload": JSON`, or `"binary": BASE64` for a binary payload.
    static func payloadMember(_ payload: PhoenixPayload, key: String = "payload") -> (String, String) {
        switch payload {
        case .json: (key, value(payload))
        case .binary: ("binary", value(payload))
        }
    }

    /// For text output.
    static func readable(_ payload: PhoenixPayload) -> String {
        switch payload {
        case .json: value(payload)
        case .binary(let bytes): "\(bytes.count) bytes of binary (\(Data(bytes).base64EncodedString()))"
        }
    }

    static func isValid(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil
    }
}
