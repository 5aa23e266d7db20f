import Foundation
import TransportCore

extension TransportConformance {
    /// `trySend(_:)`, the non-suspending send: one order with `send`, a full buffer refuses
    /// without queuing, and the same errors as `send`.
    static var trySendScenarios: [ConformanceScenario] {
        [
            ConformanceScenario("trySend and send mixed through small buffers keep one order") { target in
                // A 1 KiB outbound buffer: trySend finds it full many times and the message goes
                // through send instead; every third message goes through send anyway.
                let limits = WebSocketLimits(outboundBufferSize: 1024, inboundBufferCount: 4)
                try await target.transport.withConnection(to: target.request(.websockets, "/echo", limits: limits)) {
                    connection in
                    try await withThrowingTaskGroup(of: Int.self) { group in
                        group.addTask {
                            var queuedAtOnce = 0
                            for index in 0..<1000 {
                                let message = WebSocketMessage.text("message \(index) " + patternText(200))
                                if index % 3 != 0, try connection.trySend(message) {
                                    queuedAtOnce += 1
                                } else {
                                    try await connection.send(message)
                                }
                            }
                            return queuedAtOnce
                        }
                        var iterator = connection.inbound.makeAsyncIterator()
                        for index in 0..<1000 {
                            let message = try await iterator.next()
                            try Check.equal(message, .text("message \(index) " + patternText(200)), "message \(index)")
                        }
                        let queuedAtOnce = try await group.next() ?? 0
                        if target.capabilities.contains(.trySend) {
                            try Check.that(queuedAtOnce > 0, "trySend never queued a message (666 tries)")
                        }
                    }
                }
            },
            ConformanceScenario(
                "trySend refuses when the buffer is full; the refused message and the rest keep one order",
                requires: [.wireLevel, .trySend]
            ) { target in
                // The server reads nothing until a second connection releases it: the 16 KiB
                // outbound buffer fills (at the latest once the socket is full too), trySend
                // refuses, and the refused message goes through send, which may have to wait.
                let id = uniqueID()
                let limits = WebSocketLimits(outboundBufferSize: 16 << 10)
                let request = target.request(.raw, "/hold-then-echo?id=\(id)", limits: limits)
                try await target.transport.withConnection(to: request) { connection in
                    var queued = 0
                    while try connection.trySend(numberedMessage(queued)) {
                        queued += 1
                        guard queued < 8192 else {
                            throw ConformanceFailure(
                                "trySend still queued after 8,192 messages of 16 KiB to a server that reads nothing")
                        }
                    }
                    let (refused, total) = (queued, queued + 20)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // The refused message first, then a mix: the order is the calls' order.
                            try await connection.send(numberedMessage(refused))
                            for index in refused + 1..<total where try !connection.trySend(numberedMessage(index)) {
                                try await connection.send(numberedMessage(index))
                            }
                        }
                        let released = try await target.transport.withConnection(
                            to: target.request(.raw, "/release?of=\(id)")
                        ) { release in try await release.inbound.nextMessage("release") }
                        try Check.equal(released, .text("released"), "the release of the held connection")
                        var iterator = connection.inbound.makeAsyncIterator()
                        for index in 0..<total {
                            let echo = try await iterator.next()
                            try Check.equal(echo, numberedMessage(index), "echo \(index) of \(total)")
                        }
                        try await group.waitForAll()
                    }
                }
            },
            ConformanceScenario("trySend once closing throws closed") { target in
                try await target.transport.withConnection(to: target.request(.websockets, "/echo")) { connection in
                    let queued = try connection.trySend(.text("before close"))
                    if target.capabilities.contains(.trySend) {
                        try Check.that(queued, "trySend on a fresh connection with an empty buffer")
                    }
                    if !queued { try await connection.send(.text("before close")) }
                    try Check.equal(try await connection.inbound.nextMessage("echo"), .text("before close"), "echo")
                    await connection.close(code: CloseCode(4000), reason: "bye")
                    try await Check.throwsTransportError(.closed, "trySend right after close") {
                        _ = try connection.trySend(.text("too late"))
                    }
                    try Check.equal(
                        try await connection.inbound.nextMessage("close"), .close(code: CloseCode(4000), reason: "bye"),
                        "the server's close")
                    try await connection.inbound.expectEnd("after close")
                    try await Check.throwsTransportError(.closed, "trySend after the closing handshake") {
                        _ = try connection.trySend(.text("too late"))
                    }
                }
            },
            ConformanceScenario(
                "trySend of more than maxMessageSize throws messageTooBig", requires: [.wireLevel, .trySend]
            ) { target in
                let limits = WebSocketLimits(maxMessageSize: 16)
                try await target.transport.withConnection(to: target.request(.websockets, "/echo", limits: limits)) {
                    connection in
                    try await Check.throwsTransportError(.messageTooBig, "trySend of 17 bytes") {
                        _ = try connection.trySend(.binary(patternBytes(17)))
                    }
                    try Check.that(try connection.trySend(.binary(patternBytes(16))), "trySend of 16 bytes")
                    try Check.equal(
                        try await connection.inbound.nextMessage("echo"), .binary(patternBytes(16)),
                        "a message at the limit still goes through")
                }
            },
        ]
    }
}

/// Message `index` of a numbered series: 16 KiB, the index in its first two bytes.
private func numberedMessage(_ index: Int) -> WebSocketMessage {
    var bytes = patternBytes(16 << 10)
    (bytes[0], bytes[1]) = (UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index))
    return .binary(bytes)
}
