// Fuzz target: WebSocketProtocol's HTTP upgrade answer parser and the handshake's checks, on
// arbitrary server bytes cut at arbitrary points.
//
// Input: [split count n][n chunk sizes][the server's answer].
// Invariants: the result (head and leftover bytes, or the error) does not depend on the split
// points; the leftover bytes are exactly what follows the first blank line; a head is never
// accepted past the size limit; an accepted handshake had status 101 and the right accept key.
import CFuzzDriver
import Foundation
import FuzzSupport
import TransportCore

@testable import WebSocketProtocol

/// RFC 6455's sample key; its accept value is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", which the seeds carry.
let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

struct ParseOutcome: Equatable {
    var head: HTTPResponseHead?
    var leftover: [UInt8] = []
    var error: TransportError?
    var consumed = 0
}

func parseAll(_ pieces: [ArraySlice<UInt8>]) -> ParseOutcome {
    var parser = HTTPResponseParser()
    var outcome = ParseOutcome()
    for piece in pieces {
        outcome.consumed += piece.count
        let result = Array(piece).withUnsafeBytes { bytes in
            Result { () throws(TransportError) in try parser.append(bytes) }
        }
        switch result {
        case .success(.some(let (head, leftover))):
            outcome.head = head
            outcome.leftover = leftover
            return outcome
        case .success(.none):
            continue
        case .failure(let error):
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInputReader(fuzzBytes(data, size))
    let splitCount = Int(input.byte() % 16)
    let sizes = input.take(upTo: splitCount)
    let answer = input.rest()

    let whole = parseAll([answer])
    let split = parseAll(chunks(of: answer, sizes: sizes))
    fuzzCheck(
        whole.head == split.head && whole.error == split.error,
        "split points changed the result: \(whole) vs \(split)")
    // Leftovers differ only by what the split left unread; both end where the input ends.
    let blankLine: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
    if let head = whole.head {
        guard let end = firstRange(of: blankLine, in: answer) else {
            fuzzCheck(false, "a head was returned without a blank line")
            return 0
        }
        fuzzCheck(
            end + 4 - answer.startIndex <= HTTPResponseParser.maxHeadSize, "a head over the size limit was accepted")
        fuzzCheck(Array(answer[(end + 4)...]) == whole.leftover, "leftover bytes are not what follows the head")
        fuzzCheck(
            Array(answer[(end + 4)..<(answer.startIndex + split.consumed)]) == split.leftover,
            "split leftover bytes are not what follows the head")
        validate(head)
    } else if whole.error == nil {
        fuzzCheck(firstRange(of: blankLine, in: answer) == nil, "a complete head was not returned")
        fuzzCheck(answer.count <= HTTPResponseParser.maxHeadSize, "an over-long head was buffered")
    }
    return 0
}

/// The handshake's checks on a parsed head, with a request that offered two subprotocols.
func validate(_ head: HTTPResponseHead) {
    guard let url = URL(string: "ws://127.0.0.1:4000/socket/websocket?vsn=2.0.0"),
        let target = try? HTTPUpgradeHandshake.Target(url: url),
        let handshake = try? HTTPUpgradeHandshake(
            target: target, key: sampleKey, subprotocols: ["phoenix", "chat"], headers: [])
    else {
        fuzzCheck(false, "the fixed request is invalid")
        return
    }
    do {
        let selected = try handshake.validate(head)
        fuzzCheck(head.status == 101, "accepted status \(head.status)")
        fuzzCheck(
            head.value(of: "Sec-WebSocket-Accept") == HTTPUpgradeHandshake.acceptValue(forKey: sampleKey),
            "accepted a wrong accept key")
        if let selected { fuzzCheck(["phoenix", "chat"].contains(selected), "accepted subprotocol \(selected)") }
    } catch {
        if case .handshakeRejected(let status) = error.code { fuzzCheck(status != 101, "rejected a 101 as a status") }
    }
}

func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    var index = haystack.startIndex
    while index + needle.count <= haystack.endIndex {
        if haystack[index..<index + needle.count].elementsEqual(needle) { return index }
        index += 1
    }
    return nil
}

runFuzzDriver { fuzzOne($0, $1) }
