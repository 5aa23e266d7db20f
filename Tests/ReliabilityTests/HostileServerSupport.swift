// ReliabilityTests: the SDK against servers that misbehave (hostile bytes, drops, overload), over
// real loopback sockets with each transport.
//
// Rules of this target: no sleeps and no wall-clock bounds on behaviour (events, values, orders
// and typed errors prove it); blocking work (starting the Python server) runs on a `Thread`,
// never on the cooperative pool; every suite has a `.timeLimit`.
import ClustaarModels
import ClustaarSDK
import Foundation
import Logging
import PhoenixProtocol
import Testing
import TransportConformance
import TransportCore
import TransportLWS
import TransportPOSIX

/// The Python loopback server (TransportConformance's `ws_test_server.py`), whose raw port plays the
/// hostile Phoenix server at `/hostile/<case>`. Started once per process, off the task pool
/// (its start-up reads a pipe).
enum HostileServer {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let shared = Task {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try LoopbackTestServer(packageRoot: packageRoot) }) }.start()
        }
    }

    /// The socket endpoint of one hostile case (the SDK appends `/websocket`).
    static func endpoint(_ hostileCase: String) async throws -> URL {
        let port = try await shared.value.ports.raw
        return try #require(URL(string: "ws://127.0.0.1:\(port)/hostile/\(hostileCase)"))
    }
}

/// Log lines the SDK writes, kept for assertions (the SDK logs frames it drops as undecodable).
final class RecordedLog: Sendable {
    let lines = Locked<[String]>([])

    var logger: Logger {
        Logger(label: "hostile-server-test") { _ in RecordingHandler(log: self) }
    }

    struct RecordingHandler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            log.lines.withLock { $0.append(([event.message.description] + fields).joined(separator: " ")) }
        }
    }
}

/// A service connected to one hostile case, with its channel and what the tests read from it.
struct HostileSession {
    static let botID = "5c8a1f0e9d3b2a0012c4e5f6"
    static let interlocutorID = "6a1b2c3d4e5f60718293a4b5"

    let service: ClustaarWebChatService
    let channel: InterlocutorChannel
    let log = RecordedLog()

    init(_ kind: TransportKind, _ hostileCase: String, limits: WebSocketLimits = .init()) async throws {
        var configuration = ClustaarWebChatService.Configuration()
        // Each session's connections are counted apart at the server.
        configuration.params = [PhoenixURLParameter("id", UUID().uuidString)]
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(20)])
        configuration.limits = limits
        configuration.logger = log.logger
        service = try ClustaarWebChatService(
            environment: try await HostileServer.endpoint(hostileCase), transport: kind.transport,
            configuration: configuration)
        channel = service.interlocutorChannel(
            botID: Self.botID, interlocutorID: Self.interlocutorID, socketToken: "tok-123")
    }

    /// Leaves the channel (its streams end) and disconnects.
    func tearDown() async {
        await channel.leave()
        await service.disconnect()
    }
}

/// What the hostile server writes in the text of its bot replies once the connection is usable.
struct ServerStatus: Decodable, Equatable {
    /// 1 for the first connection of the session, 2 after one reconnect...
    var connection: Int
    /// The close code the client sent on the previous (hostile) connection.
    var lastClose: Int?
    /// The bytes the server had written on the previous connection when the client closed it.
    var sent: Int?
    /// The event the client pushed, for answers to pushes.
    var event: String?

    enum CodingKeys: String, CodingKey {
        case connection, sent, event
        case lastClose = "last_close"
    }
}

extension BotReply {
    /// The text of the first action, if it is a text action.
    var firstText: String? {
        guard case .text(let text) = actions.first else { return nil }
        return text.displayText
    }

    /// The server status carried in the first action's text.
    func serverStatus() throws -> ServerStatus {
        let text = try #require(firstText)
        return try JSONDecoder().decode(ServerStatus.self, from: Data(text.utf8))
    }
}

/// A connection state without the parts that vary from run to run (reasons, jittered delays).
func label(_ state: ConnectionState) -> String {
    switch state {
    case .connecting: "connecting"
    case .open: "open"
    case .closed(let code, _): "closed(\(code.map { "\($0.rawValue)" } ?? "nil"))"
    case .error(let error): "error(\(error.code))"
    case .reconnecting(let attempt, _): "reconnecting(\(attempt))"
    }
}

/// The process's resident set size in bytes (Linux `/proc/self/status`), nil elsewhere.
func residentSetSize() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return nil }
    let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    return kilobytes.map { $0 * 1024 }
}
