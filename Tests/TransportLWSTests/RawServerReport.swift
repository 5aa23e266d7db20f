import Foundation
import Testing
import TransportConformance
import TransportCore

/// What the raw loopback server recorded of the connection that carried `?id=<id>`: its close
/// code and reason, its pongs.
func rawServerReport(_ target: ConformanceTarget, of id: String) async throws -> [String: Any] {
    let request = WebSocketRequest(url: target.url(.raw, "/report?of=\(id)"))
    let text = try await target.transport.withConnection(to: request) { connection in
        var messages = connection.inbound.makeAsyncIterator()
        return try await messages.next()?.string
    }
    let json = try #require(text, "the report")
    return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
}

/// Reads `/ping-burst`: `count` pings and then a text frame in one write. The text frame comes
/// after the pings, so once it has arrived every ping has been parsed. Returns the server's report.
func pingBurstReport(on target: ConformanceTarget, count: Int) async throws -> [String: Any] {
    let id = UUID().uuidString
    let request = WebSocketRequest(url: target.url(.raw, "/ping-burst?count=\(count)&id=\(id)"))
    try await target.transport.withConnection(to: request) { connection in
        var messages = connection.inbound.makeAsyncIterator()
        let first = try await messages.next()
        #expect(first == .text("burst sent"))
    }
    return try await rawServerReport(target, of: id)
}
