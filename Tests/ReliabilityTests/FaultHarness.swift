import ClustaarSDK
import ClustaarSandbox
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing
import TransportLWS
import TransportPOSIX

/// SDK → FaultProxy → ClustaarSandboxServer on loopback, JSON v2.
struct FaultSetup {
    static let botID = "5c8a1f0e9d3b2a0012c4e5f6"
    static let interlocutorID = "6a1b2c3d4e5f60718293a4b5"
    static let botToken = "bot-token"

    let sandbox: ClustaarSandboxServer
    let proxy: FaultProxy
    let service: ClustaarWebChatService
    let channel: InterlocutorChannel

    /// Reconnects after 10 ms unless `configure` says otherwise.
    init(
        _ kind: TransportKind,
        configure: (inout ClustaarWebChatService.Configuration) -> Void = { _ in }
    ) async throws {
        sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        proxy = try await FaultProxy.start(upstreamHost: "127.0.0.1", upstreamPort: sandbox.port)
        var configuration = ClustaarWebChatService.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)])
        configure(&configuration)
        service = try ClustaarWebChatService(
            environment: proxy.url(for: sandbox.url), transport: kind.transport, configuration: configuration)
        channel = service.interlocutorChannel(
            botID: Self.botID, interlocutorID: Self.interlocutorID, socketToken: "tok-123")
    }

    /// Connects and joins.
    func joined() async throws {
        try await service.connect()
        #expect(try await channel.join() == JoinStatus(control: false))
    }

    func say(_ text: String) async throws(ClustaarError) {
        try await channel.sendReply(token: Self.botToken, .text(text))
    }

    func tearDown() async {
        await service.disconnect()
        await proxy.shutdown()
        await sandbox.shutdown()
    }
}

/// Helpers of the fault tests, in one namespace (other files of this target have their own).
enum Fault {
    /// The first text of a bot reply (the sandbox bot answers `X` with `Echo: X`).
    static func firstText(_ reply: BotReply?) -> String? {
        guard let reply, case .text(let text) = reply.actions.first else { return nil }
        return text.displayText
    }

    /// Reads `states` up to and including the first state that satisfies `last`; returns them all.
    static func collectStates(
        _ iterator: inout AsyncStream<ConnectionState>.Iterator,
        through last: (ConnectionState) -> Bool
    ) async -> [ConnectionState] {
        var seen: [ConnectionState] = []
        while let state = await iterator.next() {
            seen.append(state)
            if last(state) { break }
        }
        return seen
    }

    /// The attempt number of a `.reconnecting` state (the delay is measured on a real clock).
    static func reconnectAttempt(_ state: ConnectionState) -> Int? {
        if case .reconnecting(let attempt, _) = state { return attempt }
        return nil
    }

    /// The Phoenix messages (JSON v2) of the proxy's text frames that match.
    static func phoenixMessages(
        _ frames: [FaultProxy.Frame],
        connection: Int? = nil,
        direction: FaultProxy.Direction
    ) -> [(frame: FaultProxy.Frame, message: PhoenixMessage)] {
        frames.compactMap { frame in
            guard frame.direction == direction, connection == nil || frame.connection == connection, frame.opcode == 1,
                let message = try? PhoenixSerializer.jsonV2.decode(
                    .text(frame.payload), from: direction == .clientToServer ? .client : .server)
            else { return nil }
            return (frame, message)
        }
    }

    /// How many client messages with `event` went through the proxy (or were swallowed by it).
    static func clientEventCount(_ statistics: FaultProxy.Statistics, _ event: String) -> Int {
        phoenixMessages(statistics.frames, direction: .clientToServer).filter { $0.message.event == event }.count
    }

    /// Descriptors of this process: all of them, and the TCP sockets on `ports` (local or remote).
    struct Descriptors: CustomStringConvertible {
        var total: Int
        var socketsOnPorts: Int

        static func now(ports: Set<Int>) -> Descriptors {
            let links = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            var socketInodes: Set<String> = []
            for name in links {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                    target.hasPrefix("socket:[")
                else { continue }
                socketInodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
            }
            var onPorts = 0
            for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
                // Read to the end: a /proc file reports size 0, and one read returns one page only.
                guard let file = FileHandle(forReadingAtPath: table), let data = try? file.readToEnd() else { continue }
                try? file.close()
                let text = String(decoding: data, as: UTF8.self)
                for line in text.split(separator: "\n").dropFirst() {
                    let fields = line.split(separator: " ")
                    guard fields.count > 9, socketInodes.contains(String(fields[9])) else { continue }
                    let localPort = fields[1].split(separator: ":").last.flatMap { Int($0, radix: 16) }
                    let remotePort = fields[2].split(separator: ":").last.flatMap { Int($0, radix: 16) }
                    if ports.contains(localPort ?? -1) || ports.contains(remotePort ?? -1) { onPorts += 1 }
                }
            }
            return Descriptors(total: links.count, socketsOnPorts: onPorts)
        }

        var description: String { "\(total) descriptors, \(socketsOnPorts) sockets on our ports" }
    }
}

extension ClustaarError {
    /// `.outcomeUnknown` because the connection was lost: its close code and reason depend on
    /// the transport and on where the connection broke.
    var isOutcomeUnknownAfterAConnectionLoss: Bool {
        if case .outcomeUnknown(.connectionLost) = self { return true }
        return false
    }
}
