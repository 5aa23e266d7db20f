import Foundation
import TransportCore

extension TransportConformance {
    static var echoScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("text echo from 0 B to 1 MiB") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                    for size in [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20] {
                        let message = WebSocketMessage.text(patternText(size))
                        try await connection.send(message)
                        try Check.equal(
                            try await connection.inbound.nextMessage("echo"), message, "text echo of \(size) B")
                    }
                }
            },
            ConformanceScenario("binary echo from 0 B to 16 MiB (4 MiB in the wss:// runs)") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                    for size in [0, 1, 125, 126, 65535, 65536, 1 << 20, target.largestEcho] {
                        let message = WebSocketMessage.binary(patternBytes(size))
                        try await connection.send(message)
                        try Check.equal(
                            try await connection.inbound.nextMessage("echo"), message, "binary echo of \(size) B")
                    }
                }
            },
            ConformanceScenario("IPv6 loopback echo", requires: .ipv6) { target in
                let request = target.request(.websocketsIPv6, "/echo")
                try await target.transport.withConnection(to: request) { connection in
                    try await connection.send(.text("over IPv6"))
                    try Check.equal(try await connection.inbound.nextMessage("echo"), .text("over IPv6"), "IPv6 echo")
                }
            },
            ConformanceScenario("1,000 messages in order through small buffers") { target in
                // A 4-message inbound buffer and a 1 KiB outbound buffer: reading pauses and
                // resumes, and send suspends, many times.
                let limits = WebSocketLimits(outboundBufferSize: 1024, inboundBufferCount: 4)
                try await target.transport.withConnection(to: target.request(.websockets, "/echo", limits: limits)) {
                    connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for index in 0..<1000 {
                                try await connection.send(.text("message \(index) " + patternText(200)))
                            }
                        }
                        var iterator = connection.inbound.makeAsyncIterator()
                        for index in 0..<1000 {
                            let message = try await iterator.next()
                            try Check.equal(message, .text("message \(index) " + patternText(200)), "message \(index)")
                        }
                        try await group.waitForAll()
                    }
                }
            },
            ConformanceScenario("2,000 messages of mixed sizes sent back to back arrive whole and in order") {
                target in
                // Default buffers: the sender runs far ahead, so transports that batch writes
                // put many frames in one write, and large messages go out in fragments between
                // small ones.
                let sizes = [0, 1, 7, 125, 126, 127, 300, 1000, 16_000, 65_535, 65_536, 70_000]
                // Byte i of message n is UInt8(truncatingIfNeeded: i * 7 + n), and n is in the first two
                // bytes. Each message is a slice of one tape of k * 7, starting at m = n * 183 mod 256
                // (183 * 7 = 1 mod 256, so (i + m) * 7 = i * 7 + n mod 256): a copy, not a loop over
                // every byte, which took 25 s of CPU per 2,000 messages under ThreadSanitizer.
                let tape = (0..<((sizes.max() ?? 0) + 256)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
                func message(_ index: Int) -> WebSocketMessage {
                    let start = (index &* 183) & 0xff
                    var bytes = Array(tape[start..<start + sizes[index % sizes.count]])
                    if bytes.count >= 2 { (bytes[0], bytes[1]) = (UInt8(index >> 8), UInt8(index & 0xff)) }
                    return .binary(bytes)
                }
                try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for index in 0..<2000 { try await connection.send(message(index)) }
                        }
                        var iterator = connection.inbound.makeAsyncIterator()
                        for index in 0..<2000 {
                            let received = try await iterator.next()
                            try Check.equal(received, message(index), "message \(index)")
                        }
                        try await group.waitForAll()
                    }
                }
            },
            ConformanceScenario("ping from the server is answered with its payload") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/ping?payload=hello")) {
                    connection in
                    try Check.equal(
                        try await connection.inbound.nextMessage("after ping"), .text("pong:hello"),
                        "the server's report after our pong")
                }
            },
            ConformanceScenario("custom headers reach the server") { target in
                let headers = [HTTPHeader("X-Clustaar-Test", "42"), HTTPHeader("Authorization", "Bearer token-1")]
                try await target.transport.withConnection(to: target.request(.websockets, "/headers", headers: headers))
                {
                    connection in
                    let message = try await connection.inbound.nextMessage("headers")
                    let object = try JSONSerialization.jsonObject(with: Data((message.string ?? "").utf8))
                    let seen = object as? [String: String] ?? [:]
                    try Check.equal(seen["x-clustaar-test"], "42", "X-Clustaar-Test as the server saw it")
                    try Check.equal(seen["authorization"], "Bearer token-1", "Authorization as the server saw it")
                }
            },
            ConformanceScenario("sending more than maxMessageSize throws messageTooBig", requires: .wireLevel) {
                target in
                let limits = WebSocketLimits(maxMessageSize: 16)
                try await target.transport.withConnection(to: target.request(.websockets, "/echo", limits: limits)) {
                    connection in
                    try await Check.throwsTransportError(.messageTooBig, "send of 17 bytes") {
                        try await connection.send(.binary(patternBytes(17)))
                    }
                    try await connection.send(.binary(patternBytes(16)))
                    try Check.equal(
                        try await connection.inbound.nextMessage("echo"), .binary(patternBytes(16)),
                        "a message at the limit still goes through")
                }
            },
        ]
    }

    static var fragmentationScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("fragmented messages are reassembled") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/fragmented?count=4")) {
                    connection in
                    try Check.equal(
                        try await connection.inbound.nextMessage("text"), .text("part0-part1-part2-part3-"),
                        "reassembled text")
                    let binary = (0..<4).flatMap { [UInt8](repeating: UInt8($0), count: 10) }
                    try Check.equal(
                        try await connection.inbound.nextMessage("binary"), .binary(binary), "reassembled binary")
                }
            },
            ConformanceScenario("a ping between fragments, a character split across them", requires: .wireLevel) {
                target in
                let id = uniqueID()
                try await target.transport.withConnection(to: target.request(.raw, "/fragmented-with-ping?id=\(id)")) {
                    connection in
                    try Check.equal(try await connection.inbound.nextMessage("text"), .text("héllo wörld"), "text")
                }
                let report = try await target.report(of: id)
                try Check.equal(report["pongs"] as? [String], ["between"], "pongs the server received")
                try Check.equal(report["masked"] as? [Bool], [true, true], "every client frame masked")
                try Check.equal(report["close_code"] as? Int, 1000, "the client's close code")
            },
            ConformanceScenario("invalid UTF-8 closes with 1007", requires: .wireLevel) { target in
                let id = uniqueID()
                try await target.transport.withConnection(to: target.request(.raw, "/invalid-utf8?id=\(id)")) {
                    connection in
                    try await Check.throwsTransportError(.protocolViolation, "inbound after invalid UTF-8") {
                        _ = try await connection.inbound.nextMessage("invalid text")
                    }
                }
                try Check.equal(try await target.recordedCloseCode(of: id), 1007, "the client's close code")
            },
            ConformanceScenario("an oversized message closes with 1009", requires: .wireLevel) { target in
                for (query, limits) in [
                    ("size=2048", WebSocketLimits(maxFrameSize: 1024, maxMessageSize: 1024)),
                    ("size=2048&fragment=512", WebSocketLimits(maxFrameSize: 4096, maxMessageSize: 1024)),
                ] {
                    let id = uniqueID()
                    let request = target.request(.raw, "/oversized?\(query)&id=\(id)", limits: limits)
                    try await target.transport.withConnection(to: request) { connection in
                        try await Check.throwsTransportError(.messageTooBig, "inbound after \(query)") {
                            _ = try await connection.inbound.nextMessage("oversized")
                        }
                    }
                    try Check.equal(
                        try await target.recordedCloseCode(of: id), 1009, "the client's close code (\(query))")
                }
            },
        ]
    }

    static var closeScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("the client closes: the server echoes its code and reason") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                    try await connection.send(.text("before close"))
                    try Check.equal(try await connection.inbound.nextMessage("echo"), .text("before close"), "echo")
                    await connection.close(code: CloseCode(4000), reason: "bye")
                    try Check.equal(
                        try await connection.inbound.nextMessage("close"), .close(code: CloseCode(4000), reason: "bye"),
                        "the server's close")
                    try await connection.inbound.expectEnd("after close")
                    try await Check.throwsTransportError(.closed, "send after close") {
                        try await connection.send(.text("too late"))
                    }
                }
            },
            ConformanceScenario("the client's close code and reason reach the server") { target in
                let id = uniqueID()
                try await target.transport.withConnection(to: target.request(.raw, "/record-close?id=\(id)")) {
                    connection in
                    await connection.close(code: CloseCode(4001), reason: "done here")
                    let reply = try await connection.inbound.nextMessage("close")
                    guard case .close = reply else {
                        throw ConformanceFailure("expected the server's close, got \(reply)")
                    }
                    try await connection.inbound.expectEnd("after the close")
                }
                let report = try await target.report(of: id)
                try Check.equal(report["close_code"] as? Int, 4001, "close code at the server")
                try Check.equal(report["close_reason"] as? String, "done here", "close reason at the server")
            },
            ConformanceScenario("leaving the scope closes with 1000") { target in
                let id = uniqueID()
                try await target.transport.withConnection(to: target.request(.raw, "/record-close?id=\(id)")) { _ in }
                try Check.equal(try await target.recordedCloseCode(of: id), 1000, "close code at the server")
            },
            ConformanceScenario("the server closes with a code and a reason") { target in
                for (code, reason) in [(1000, ""), (1001, "going away"), (4001, "bye")] {
                    let query = "/close?code=\(code)&reason=\(reason.replacingOccurrences(of: " ", with: "%20"))"
                    try await target.transport.withConnection(to: target.request(.websockets, query)) { connection in
                        try Check.equal(
                            try await connection.inbound.nextMessage("close"),
                            .close(code: CloseCode(UInt16(code)), reason: reason), "the server's close")
                        try await connection.inbound.expectEnd("after the server's close")
                    }
                }
            },
            ConformanceScenario("the server closes without a status code", requires: .wireLevel) { target in
                let id = uniqueID()
                try await target.transport.withConnection(to: target.request(.raw, "/no-status-close?id=\(id)")) {
                    connection in
                    try Check.equal(
                        try await connection.inbound.nextMessage("close"), .close(code: nil, reason: ""), "empty close")
                    try await connection.inbound.expectEnd("after the close")
                }
                let report = try await target.report(of: id)
                try Check.that(report.keys.contains("close_code"), "the client answered the close: \(report)")
                try Check.that(report["close_code"] is NSNull, "the client's answer carries no code: \(report)")
            },
            ConformanceScenario("an invalid close code from the server closes with 1002", requires: .wireLevel) {
                target in
                for code in [999, 1005, 1006, 2999, 5000] {
                    let id = uniqueID()
                    try await target.transport.withConnection(
                        to: target.request(.raw, "/invalid-close-code?code=\(code)&id=\(id)")
                    ) { connection in
                        try await Check.throwsTransportError(.protocolViolation, "inbound after close code \(code)") {
                            _ = try await connection.inbound.nextMessage("bad close")
                        }
                    }
                    try Check.equal(try await target.recordedCloseCode(of: id), 1002, "the client's answer to \(code)")
                }
            },
            ConformanceScenario("the server drops TCP without a close frame") { target in
                try await target.transport.withConnection(to: target.request(.raw, "/drop")) { connection in
                    try await Check.throwsTransportError(.connectionLost, "inbound after a drop") {
                        _ = try await connection.inbound.nextMessage("drop")
                    }
                }
            },
            ConformanceScenario("the server closes TCP in the middle of a frame") { target in
                try await target.transport.withConnection(to: target.request(.raw, "/mid-frame")) { connection in
                    try await Check.throwsTransportError(.connectionLost, "inbound after a partial frame") {
                        _ = try await connection.inbound.nextMessage("partial frame")
                    }
                }
            },
            ConformanceScenario("a server that never answers our close: close timeout", requires: .wireLevel) {
                target in
                // At least the configured 200 ms. No upper bound: in a parallel test run on a loaded
                // machine this task can wait seconds for a thread; the typed error proves the timeout.
                let timeouts = WebSocketTimeouts(close: .milliseconds(200))
                let elapsed = try await target.transport.withConnection(
                    to: target.request(.raw, "/ignore-close", timeouts: timeouts)
                ) { connection in
                    let start = ContinuousClock.now
                    await connection.close(code: .normalClosure, reason: "")
                    try await Check.throwsTransportError(.closeTimeout, "inbound after an unanswered close") {
                        _ = try await connection.inbound.nextMessage("unanswered close")
                    }
                    return ContinuousClock.now - start
                }
                try Check.that(elapsed >= .milliseconds(200), "gave up after \(elapsed)")
            },
        ]
    }

    static var handshakeScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("a non-101 answer is reported with its status") { target in
                for status in [403, 404, 500] {
                    try await Check.throwsTransportError(
                        .handshakeRejected(status: status), "upgrade answered \(status)"
                    ) {
                        try await target.transport.withConnection(
                            to: target.request(.websockets, "/reject?status=\(status)")
                        ) {
                            _ in throw ConformanceFailure("the body ran for a rejected upgrade")
                        }
                    }
                }
            },
            ConformanceScenario("the server's subprotocol is checked and exposed") { target in
                let offered = ["chat.v2", "chat.v1"]
                try await target.transport.withConnection(
                    to: target.request(.websockets, "/subprotocol", subprotocols: offered)
                ) { connection in
                    try Check.equal(connection.subprotocol, "chat.v1", "selected subprotocol")
                    try Check.equal(
                        try await connection.inbound.nextMessage("report"), .text("chat.v1"), "server's view")
                }
                try await target.transport.withConnection(to: target.request(.websockets, "/subprotocol")) {
                    connection in
                    try Check.equal(connection.subprotocol, nil, "no subprotocol offered")
                }
            },
            ConformanceScenario("a subprotocol we did not offer fails the handshake") { target in
                try await Check.throwsTransportError(.handshakeInvalid, "server picked an unoffered subprotocol") {
                    try await target.transport.withConnection(
                        to: target.request(.raw, "/wrong-subprotocol", subprotocols: ["chat.v1"])
                    ) { _ in throw ConformanceFailure("the body ran") }
                }
            },
            ConformanceScenario("a wrong Sec-WebSocket-Accept fails the handshake") { target in
                try await Check.throwsTransportError(.handshakeInvalid, "wrong accept key") {
                    try await target.transport.withConnection(to: target.request(.raw, "/bad-accept")) { _ in
                        throw ConformanceFailure("the body ran")
                    }
                }
            },
            ConformanceScenario("a server that never answers the upgrade: handshake timeout", requires: .wireLevel) {
                target in
                let timeouts = WebSocketTimeouts(handshake: .milliseconds(300))
                let start = ContinuousClock.now
                try await Check.throwsTransportError(.handshakeTimeout, "silent server") {
                    try await target.transport.withConnection(
                        to: target.request(.raw, "/never-answer", timeouts: timeouts)
                    ) {
                        _ in throw ConformanceFailure("the body ran")
                    }
                }
                // At least the configured 300 ms; no upper bound (see the close timeout scenario).
                let elapsed = ContinuousClock.now - start
                try Check.that(elapsed >= .milliseconds(300), "gave up after \(elapsed)")
            },
            ConformanceScenario("a refused port fails with connectFailed") { target in
                try await Check.throwsTransportError(.connectFailed, "refused port") {
                    try await target.transport.withConnection(to: WebSocketRequest(url: target.refusedURL)) { _ in
                        throw ConformanceFailure("the body ran")
                    }
                }
            },
        ]
    }

    static var resourceScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("1,000 connect/close cycles leak no file descriptor") { target in
                let count = target.connectCycles
                let before = openDescriptorCount()
                for cycle in 0..<count {
                    try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                        if cycle % 100 == 0 {
                            try await connection.send(.text("cycle \(cycle)"))
                            try Check.equal(
                                try await connection.inbound.nextMessage("echo"), .text("cycle \(cycle)"), "echo")
                        }
                    }
                }
                let after = openDescriptorCount()
                guard let before, let after else {
                    try Check.that(!target.capabilities.contains(.fileDescriptors), "/proc/self/fd is not readable")
                    return
                }
                // Tests running in parallel open and close descriptors of their own (a few per
                // connection, well under 500 at any moment); a leak of even one per cycle shows as
                // `count` more.
                try Check.that(
                    after - before < min(500, count / 2),
                    "descriptors before: \(before), after \(count) cycles: \(after)")
            }
        ]
    }
}

/// How many descriptors this process has open, nil where /proc/self/fd does not exist.
public func openDescriptorCount() -> Int? {
    try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
}
