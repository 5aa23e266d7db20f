import ClustaarSandbox
import Foundation
import PhoenixClient
import Testing
import TransportLWS
import TransportPOSIX

/// `PhoenixPresence` over real loopback sockets against the sandbox's `room:*` channel (a
/// Phoenix app with Phoenix.Presence), on each transport: two clients (one per wire format) see
/// each other join and leave, with the metas the server tracks.
@Suite(.timeLimit(.minutes(2))) struct PresenceEndToEndTests {
    /// The metas the sandbox tracks: `online_at`, `phx_ref`, and the join's `meta`.
    struct RoomMeta: Decodable, Hashable {
        let online_at: String
        let phx_ref: String
        let device: String?
    }

    /// Names each `phx_ref` `R<n>` in the order the test first reads it.
    final class RefNames: @unchecked Sendable {
        private var names: [String: String] = [:]
        func name(_ ref: String) -> String {
            if let name = names[ref] { return name }
            names[ref] = "R\(names.count + 1)"
            return names[ref] ?? "?"
        }
    }

    static func socket(_ transport: String, _ sandbox: ClustaarSandboxServer, _ serializer: PhoenixSerializer) throws
        -> PhoenixSocket
    {
        var configuration = PhoenixSocket.Configuration()
        configuration.serializer = serializer
        let webSocket: any Transport = transport == "lws" ? LWSTransport() : POSIXTransport()
        return try PhoenixSocket(endpoint: sandbox.url, transport: webSocket, configuration: configuration)
    }

    @Test(arguments: ["posix", "lws"])
    func twoClientsSeeEachOtherJoinAndLeave(transport: String) async throws {
        // A client waits idle while the other acts: no idle close, however slow the machine.
        let sandbox = try await ClustaarSandboxServer.start(
            configuration: SandboxConfiguration(idleTimeout: .seconds(3600)))
        let adaSocket = try Self.socket(transport, sandbox, .jsonV2)
        let bobSocket = try Self.socket(transport, sandbox, .jsonV1)
        let names = RefNames()
        func take(_ count: Int, _ updates: inout AsyncStream<PhoenixPresenceUpdate>.Iterator) async -> [String] {
            var out: [String] = []
            for _ in 0..<count { out.append(describe(await updates.next(), refs: names.name)) }
            return out
        }

        let ada = adaSocket.channel("room:lobby", params: .json(#"{"user":"ada","meta":{"device":"phone"}}"#))
        let adaPresence = PhoenixPresence(channel: ada)
        var adaUpdates = adaPresence.updates.makeAsyncIterator()
        try await adaSocket.connect()
        try await ada.join()
        // The server's own diff comes before the state: held, then applied after it.
        #expect(await take(3, &adaUpdates) == ["join ada - [R1]", "join ada [R1] [R1]", "sync ada:R1"])

        let bob = bobSocket.channel("room:lobby", params: .json(#"{"user":"bob"}"#))
        let bobPresence = PhoenixPresence(channel: bob)
        var bobUpdates = bobPresence.updates.makeAsyncIterator()
        try await bobSocket.connect()
        try await bob.join()
        #expect(await take(2, &adaUpdates) == ["join bob - [R2]", "sync ada:R1 bob:R2"])
        #expect(
            await take(4, &bobUpdates) == [
                "join ada - [R1]", "join bob - [R2]", "join bob [R2] [R2]", "sync ada:R1 bob:R2",
            ])

        // The metas as the server tracks them, decoded.
        let seenByBob = try bobPresence.list(metasAs: RoomMeta.self)
        #expect(seenByBob.map(\.key) == ["ada", "bob"])
        let adaMeta = try #require(seenByBob.first?.metas.first)
        #expect(adaMeta.device == "phone")
        #expect(Int(adaMeta.online_at) != nil)
        #expect(adaMeta.phx_ref == adaPresence["ada"]?.first?.ref)
        #expect(adaMeta.phx_ref.count == 16)
        let bobFields = try #require(try bobPresence["bob"]?.first?.decode(as: [String: String].self))
        #expect(bobFields.keys.sorted() == ["online_at", "phx_ref"])

        // Ada leaves: Bob sees her go; her updates end with the channel.
        await ada.leave()
        #expect(await take(1, &adaUpdates) == ["end"])
        #expect(await take(2, &bobUpdates) == ["leave ada [] [R1]", "sync bob:R2"])

        // Ada comes back on the same channel object: a new meta, and the state she gets replaces
        // the one she kept.
        adaUpdates = adaPresence.updates.makeAsyncIterator()
        try await ada.join()
        #expect(
            await take(4, &adaUpdates) == [
                "join ada [R1] [R3]", "leave ada [R3] [R1]", "join ada [R3] [R3]", "sync ada:R3 bob:R2",
            ])
        #expect(await take(2, &bobUpdates) == ["join ada - [R3]", "sync bob:R2 ada:R3"])

        // Bob leaves: Ada sees him go.
        await bob.leave()
        #expect(await take(2, &adaUpdates) == ["leave bob [] [R2]", "sync ada:R3"])
        #expect(await take(1, &bobUpdates) == ["end"])
        #expect(adaPresence.list().map(\.key) == ["ada"])

        await adaSocket.disconnect()
        await bobSocket.disconnect()
        await sandbox.shutdown()
    }
}
