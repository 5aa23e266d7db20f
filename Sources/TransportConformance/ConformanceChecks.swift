import Foundation
import TransportCore

/// Small assertion helpers: each throws a `ConformanceFailure` saying what was expected.
enum Check {
    static func equal<T: Equatable>(
        _ actual: T, _ expected: T, _ what: String
    ) throws(ConformanceFailure) {
        guard actual == expected else {
            throw ConformanceFailure("\(what): expected \(describe(expected)), got \(describe(actual))")
        }
    }

    static func that(_ condition: Bool, _ what: String) throws(ConformanceFailure) {
        guard condition else { throw ConformanceFailure(what) }
    }

    /// Runs `body`, which must throw a `TransportError` with `code`.
    static func throwsTransportError(
        _ code: TransportError.Code,
        _ what: String,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as TransportError {
            guard error.code == code else {
                throw ConformanceFailure("\(what): expected TransportError(\(code)), got \(error)")
            }
            return
        } catch let failure as ConformanceFailure {
            throw failure
        } catch {
            throw ConformanceFailure("\(what): expected TransportError(\(code)), got \(error)")
        }
        throw ConformanceFailure("\(what): expected TransportError(\(code)), nothing was thrown")
    }

    static func describe<T>(_ value: T) -> String {
        if let message = value as? WebSocketMessage {
            switch message {
            case .text(let bytes) where bytes.count > 64: return ".text(\(bytes.count) bytes)"
            case .binary(let bytes) where bytes.count > 64: return ".binary(\(bytes.count) bytes)"
            default: break
            }
        }
        return String(describing: value)
    }
}

extension WebSocketInbound {
    /// The next element, failing the scenario if the sequence ended.
    func nextMessage(_ what: String) async throws -> WebSocketMessage {
        var iterator = makeAsyncIterator()
        guard let message = try await iterator.next() else {
            throw ConformanceFailure("\(what): the inbound sequence ended early")
        }
        return message
    }

    /// Whether the sequence has ended (no more elements, no error).
    func expectEnd(_ what: String) async throws {
        var iterator = makeAsyncIterator()
        if let message = try await iterator.next() {
            throw ConformanceFailure(
                "\(what): expected the end of the inbound sequence, got \(Check.describe(message))")
        }
    }
}

extension ConformanceTarget {
    func request(
        _ server: ConformanceServer,
        _ pathAndQuery: String,
        headers: [HTTPHeader] = [],
        subprotocols: [String] = [],
        limits: WebSocketLimits = .init(),
        timeouts: WebSocketTimeouts = .init()
    ) -> WebSocketRequest {
        WebSocketRequest(
            url: url(server, pathAndQuery), headers: headers, subprotocols: subprotocols, limits: limits,
            timeouts: timeouts, tls: tls)
    }

    /// What the raw server recorded of the connection that carried `?id=<id>`.
    func report(of id: String) async throws -> [String: Any] {
        let text = try await transport.withConnection(to: request(.raw, "/report?of=\(id)")) { connection in
            let message = try await connection.inbound.nextMessage("report")
            guard let text = message.string else { throw ConformanceFailure("report: expected text, got \(message)") }
            return text
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ConformanceFailure("report: not a JSON object: \(text)")
        }
        return object
    }

    /// The close code the client sent on the connection that carried `?id=<id>` (nil: none).
    func recordedCloseCode(of id: String) async throws -> Int? {
        try await report(of: id)["close_code"] as? Int
    }
}

/// A fresh id to tie a behaviour to its report.
func uniqueID() -> String { UUID().uuidString }

/// `count` bytes of a pattern that catches misplaced or reordered bytes.
func patternBytes(_ count: Int) -> [UInt8] {
    var block = [UInt8](repeating: 0, count: min(count, 65521))
    for index in block.indices { block[index] = UInt8(truncatingIfNeeded: index &* 7 &+ index >> 8) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count { bytes.append(contentsOf: block.prefix(count - bytes.count)) }
    return bytes
}

/// `count` bytes of UTF-8 text mixing one-, two- and three-byte characters.
func patternText(_ count: Int) -> String {
    let unit = "abcdéfgh€ijk"  // 15 bytes
    var text = String(repeating: unit, count: count / unit.utf8.count)
    text += String(repeating: "x", count: count - text.utf8.count)
    return text
}
