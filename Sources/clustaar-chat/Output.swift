import ClustaarSDK
import Foundation

/// Everything the chat prints, from any task, one whole line at a time: readable text, or with
/// `--json` one JSON object per line with an `event` key.
actor Output {
    let json: Bool

    init(json: Bool) { self.json = json }

    func text(_ line: String) {
        guard !json else { return }
        write(line)
    }

    func event(_ name: String, _ members: [(String, JSONValue)]) {
        guard json else { return }
        let object = JSONValue.object(
            JSONObject([.init(key: "event", value: .string(name))] + members.map(JSONObject.Member.init)))
        guard let bytes = try? ClustaarJSON.encode(object) else { return }
        write(String(decoding: bytes, as: UTF8.self))
    }

    /// A model as a JSON value, for `--json` events.
    static func value(_ model: some Encodable) -> JSONValue {
        guard let bytes = try? ClustaarJSON.encode(model),
            let value = try? ClustaarJSON.decode(JSONValue.self, from: ArraySlice(bytes))
        else { return .null }
        return value
    }

    private func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

extension JSONObject.Member {
    init(_ pair: (String, JSONValue)) { self.init(key: pair.0, value: pair.1) }
}
