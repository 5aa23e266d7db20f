import ClustaarTestSupport
import Foundation
import Testing
import TransportConformance
import TransportCore

/// Plays the conformance server behaviours in-process for an `InMemoryTransport`: the same URL
/// paths as the Python loopback server, each answered with what that server would do.
actor InMemoryConformanceServer {
    private var closeReports: [String: [String: Any]] = [:]
    /// The ids of /record-close connections still open, with the /report answers waiting for them.
    private var recordings: [String: [CheckedContinuation<Void, Never>]] = [:]

    func serve(_ transport: InMemoryTransport) async {
        await withTaskGroup(of: Void.self) { group in
            for await connection in transport.connections {
                group.addTask { await self.handle(connection) }
            }
        }
    }

    private func record(_ id: String, _ report: [String: Any]) { closeReports[id] = report }

    // The Python server records the client's close before it answers it, so a client that asks
    // for the report after its closing handshake finds the record. In memory the transport
    // answers the client's close at once, and this server reads it later: /report waits for the
    // recording connection of its id to end, as the closing handshake would have made it.
    private func startRecording(_ id: String) { recordings[id] = [] }

    private func finishRecording(_ id: String) {
        for waiter in recordings.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    private func report(of id: String) async -> [String: Any] {
        if recordings[id] != nil {
            await withCheckedContinuation { recordings[id, default: []].append($0) }
        }
        return closeReports[id] ?? [:]
    }

    private func handle(_ connection: InMemoryServerConnection) async {
        let url = connection.request.url
        let query = Dictionary(
            (URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []).map {
                ($0.name, $0.value ?? "")
            },
            uniquingKeysWith: { first, _ in first })
        let id = query["id"] ?? ""
        // Before the accept: the client cannot ask for this id's report before it is connected.
        let records = url.path == "/record-close"
        if records { startRecording(id) }
        defer { if records { finishRecording(id) } }
        do {
            let accepted: Bool
            switch url.path {
            case "/reject", "/wrong-subprotocol", "/bad-accept": accepted = false
            default: accepted = url.host != "refused"
            }
            if accepted {
                connection.accept(subprotocol: connection.request.subprotocols.contains("chat.v1") ? "chat.v1" : nil)
            }
            switch (url.host ?? "", url.path) {
            case ("refused", _):
                connection.reject(TransportError(.connectFailed, "connection refused (in memory)"))
            case (_, "/reject"):
                let status = Int(query["status"] ?? "403") ?? 403
                connection.reject(TransportError(.handshakeRejected(status: status), "rejected (in memory)"))
            case (_, "/wrong-subprotocol"), (_, "/bad-accept"):
                connection.reject(TransportError(.handshakeInvalid, "invalid upgrade answer (in memory)"))
            case (_, "/echo"):
                for try await message in connection.inbound {
                    if case .close = message { break }
                    try connection.send(message)
                }
            case (_, "/headers"):
                let headers = Dictionary(
                    connection.request.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
                let json = try JSONSerialization.data(withJSONObject: headers)
                try connection.send(text: String(decoding: json, as: UTF8.self))
            case (_, "/subprotocol"):
                try connection.send(text: connection.request.subprotocols.contains("chat.v1") ? "chat.v1" : "")
            case (_, "/close"):
                connection.close(
                    code: CloseCode(UInt16(query["code"] ?? "1000") ?? 1000), reason: query["reason"] ?? "")
            case (_, "/ping"):
                // No ping frames in memory: play the server's report after the pong.
                try connection.send(text: "pong:" + (query["payload"] ?? ""))
            case (_, "/fragmented"):
                let count = Int(query["count"] ?? "3") ?? 3
                try connection.send(text: (0..<count).map { "part\($0)-" }.joined())
                try connection.send(.binary((0..<count).flatMap { [UInt8](repeating: UInt8($0), count: 10) }))
            case (_, "/drop"), (_, "/mid-frame"):
                connection.drop()
            case (_, "/record-close"):
                for try await message in connection.inbound {
                    if case .close(let code, let reason) = message {
                        record(id, ["close_code": code.map { Int($0.rawValue) } as Any, "close_reason": reason])
                    }
                }
            case (_, "/report"):
                let json = try JSONSerialization.data(withJSONObject: await report(of: query["of"] ?? ""))
                try connection.send(text: String(decoding: json, as: UTF8.self))
                connection.close(code: .normalClosure, reason: "")
            default:
                connection.close(code: .policyViolation, reason: "unknown path \(url.path)")
            }
        } catch {
            connection.drop(reason: "\(error)")
        }
    }
}

@Test(
    "InMemoryTransport passes the transport conformance suite",
    .timeLimit(.minutes(1)),
    arguments: TransportConformance.scenarios(for: [.trySend])
)
func inMemoryTransportConforms(_ scenario: ConformanceScenario) async throws {
    let transport = InMemoryTransport(autoAccept: false)
    let server = InMemoryConformanceServer()
    let serving = Task { await server.serve(transport) }
    defer {
        transport.finish()
        serving.cancel()
    }
    let target = ConformanceTarget(
        name: "InMemoryTransport", transport: transport, capabilities: [.trySend],
        refusedURL: URL(string: "ws://refused/")!
    ) { _, pathAndQuery in URL(string: "ws://in-memory\(pathAndQuery)")! }
    try await scenario.run(on: target)
}
