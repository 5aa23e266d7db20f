import Foundation
import PhoenixProtocol

/// One recorded WebSocket session with a real Phoenix server (`shared/fixtures/phoenix/*.jsonl`).
public struct PhoenixTranscript: Sendable {
    /// One frame of the session.
    public struct Frame: Sendable, Hashable {
        /// Who sent the frame (`out` or `in` in the file).
        public enum Direction: String, Sendable {
            /// Our client sent it (`out`).
            case clientToServer = "out"
            /// The server sent it (`in`).
            case serverToClient = "in"
        }
        /// What the frame carried.
        public enum Content: Sendable, Hashable {
            /// A text frame's bytes.
            case text([UInt8])
            /// A binary frame's bytes.
            case binary([UInt8])
            /// A close frame, with its status code if it had one.
            case close(code: UInt16?)
        }
        /// Who sent the frame.
        public var direction: Direction
        /// What it carried.
        public var content: Content

        /// The frame as the serializers take it; nil for a close frame.
        public var phoenixFrame: PhoenixFrame? {
            switch content {
            case .text(let bytes): .text(bytes)
            case .binary(let bytes): .binary(bytes)
            case .close: nil
            }
        }
    }

    /// The transcript's name (its file name without `.jsonl`).
    public var name: String
    /// The URL the client connected to; its `vsn` tells the serializer.
    public var url: String
    /// What the recorded session does, in words.
    public var description: String
    /// The HTTP status the server answered the upgrade with (101, or e.g. 403 when it refused).
    public var handshakeStatus: Int?
    /// The frames in order; none when the server refused the upgrade.
    public var frames: [Frame]

    /// `.jsonV1` for `vsn=1.0.0`, `.jsonV2` otherwise (v2 decoding takes text and binary frames).
    public var serializer: PhoenixSerializer { url.contains("vsn=1.") ? .jsonV1 : .jsonV2 }

    /// Every transcript listed in `index.json`, in its order.
    public static func loadAll(testFile: String = #filePath) throws -> [PhoenixTranscript] {
        let directory = try SharedFixtures.directory("phoenix", testFile: testFile)
        let index = try JSONDecoder().decode(
            [IndexEntry].self, from: Data(contentsOf: directory.appendingPathComponent("index.json")))
        return try index.map { entry in
            let file = directory.appendingPathComponent("\(entry.name).jsonl")
            guard entry.frames != nil || FileManager.default.fileExists(atPath: file.path) else {
                return PhoenixTranscript(
                    name: entry.name, url: entry.url, description: entry.description,
                    handshakeStatus: entry.handshake_status, frames: [])
            }
            let text = try String(contentsOf: file, encoding: .utf8)
            let frames = try text.split(separator: "\n").map { line in
                try JSONDecoder().decode(RawFrame.self, from: Data(line.utf8)).frame()
            }
            return PhoenixTranscript(
                name: entry.name, url: entry.url, description: entry.description,
                handshakeStatus: entry.handshake_status, frames: frames)
        }
    }

    private struct IndexEntry: Decodable {
        var name: String
        var url: String
        var description: String
        var handshake_status: Int?
        var frames: Int?
    }

    private struct RawFrame: Decodable {
        var dir: String
        var opcode: String
        var data: String
        var close_code: UInt16?

        struct Invalid: Error, CustomStringConvertible { var description: String }

        func frame() throws -> Frame {
            guard let direction = Frame.Direction(rawValue: dir) else { throw Invalid(description: "dir \(dir)") }
            switch opcode {
            case "text": return Frame(direction: direction, content: .text(Array(data.utf8)))
            case "binary":
                guard let bytes = [UInt8](hex: data) else { throw Invalid(description: "hex \(data)") }
                return Frame(direction: direction, content: .binary(bytes))
            case "close": return Frame(direction: direction, content: .close(code: close_code))
            default: throw Invalid(description: "opcode \(opcode)")
            }
        }
    }
}

extension [UInt8] {
    /// Bytes from hex digits, spaces allowed between bytes (`"00 01 ff"` or `"0001ff"`).
    public init?(hex: String) {
        let digits = hex.filter { !$0.isWhitespace }
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes
    }
}
