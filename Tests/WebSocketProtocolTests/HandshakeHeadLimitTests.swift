import Testing
import TransportCore

@testable import WebSocketProtocol

/// The answer head's size limit holds however the network splits the bytes (found while writing
/// the split invariant of the FuzzHandshakeResponse target: a head over the limit was accepted when it
/// arrived in one read and refused when it arrived in pieces).
@Suite struct HandshakeHeadLimitTests {
    /// A 101 head of exactly `size` bytes, blank line included, padded with one long header.
    static func head(size: Int) -> [UInt8] {
        let start = "HTTP/1.1 101 Switching Protocols\r\nX-Padding: "
        let end = "\r\n\r\n"
        return Array((start + String(repeating: "a", count: size - start.utf8.count - end.utf8.count) + end).utf8)
    }

    static func outcome(_ bytes: [UInt8], pieceSize: Int) -> Result<Int?, TransportError> {
        var parser = HTTPResponseParser()
        var start = 0
        while start < bytes.count {
            let piece = Array(bytes[start..<min(bytes.count, start + pieceSize)])
            start += pieceSize
            let result = piece.withUnsafeBytes { raw in Result { () throws(TransportError) in try parser.append(raw) } }
            switch result {
            case .success(.some(let (head, _))): return .success(head.status)
            case .success(.none): continue
            case .failure(let error): return .failure(error)
            }
        }
        return .success(nil)
    }

    @Test(arguments: [1, 1000, 1 << 20])
    func headAtTheLimitIsAcceptedInAnyPieces(pieceSize: Int) {
        let bytes = Self.head(size: HTTPResponseParser.maxHeadSize) + [0x81, 0x00]
        #expect((try? Self.outcome(bytes, pieceSize: pieceSize).get()) == 101)
    }

    @Test(arguments: [1, 1000, 1 << 20])
    func headOverTheLimitIsRefusedInAnyPieces(pieceSize: Int) {
        let bytes = Self.head(size: HTTPResponseParser.maxHeadSize + 1)
        guard case .failure(let error) = Self.outcome(bytes, pieceSize: pieceSize) else {
            Issue.record("a head of \(bytes.count) bytes was accepted in pieces of \(pieceSize)")
            return
        }
        #expect(error.code == .handshakeInvalid)
    }
}
