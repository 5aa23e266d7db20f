import NIOCore
import NIOEmbedded
import Testing

@testable import ClustaarSandbox

/// `closeAllConnections`, `stop` and `restart` close every socket with a close frame, including
/// one whose 101 answer is already written while its WebSocket handler is not in place yet: its
/// client sees an open WebSocket and must get the close frame, not a bare TCP close (a TSan run
/// once caught `closeAllConnections` in that gap).
@Suite("Sandbox registry: closing connections mid-upgrade")
struct SandboxRegistryCloseTests {
    @Test("a close asked for during the upgrade waits for the WebSocket handler, once")
    func closeDuringUpgrade() {
        let registry = SandboxRegistry()
        let plain = EmbeddedChannel()
        let upgrading = EmbeddedChannel()
        let open = EmbeddedChannel()
        for channel in [plain, upgrading, open] { registry.connectionAccepted(channel) }
        registry.upgradeAccepted(upgrading)
        registry.upgradeAccepted(open)
        #expect(registry.webSocketOpened(open) == nil)

        let request = SandboxCloseRequest(code: 1001, reason: "going away")
        let (webSockets, others, all) = registry.requestClose(request)
        #expect(webSockets.map { ObjectIdentifier($0) } == [ObjectIdentifier(open)])
        #expect(others.map { ObjectIdentifier($0) } == [ObjectIdentifier(plain)])
        #expect(Set(all.map { ObjectIdentifier($0) }) == Set([plain, upgrading, open].map { ObjectIdentifier($0) }))

        // The handler in place: it gets the request to apply, and only once.
        #expect(registry.webSocketOpened(upgrading) == request)
        #expect(registry.webSocketOpened(upgrading) == nil)
        #expect(registry.statistics.openConnections == 2)
    }

    @Test("a connection closed during its upgrade leaves no pending close behind")
    func closedDuringUpgrade() throws {
        let registry = SandboxRegistry()
        let channel = EmbeddedChannel()
        registry.connectionAccepted(channel)
        registry.upgradeAccepted(channel)
        _ = registry.requestClose(SandboxCloseRequest(code: 1000, reason: ""))
        try channel.close().wait()
        channel.embeddedEventLoop.run()
        #expect(registry.requestClose(SandboxCloseRequest(code: 1000, reason: "")).all.isEmpty)
        #expect(registry.webSocketOpened(channel) == nil)
    }
}
