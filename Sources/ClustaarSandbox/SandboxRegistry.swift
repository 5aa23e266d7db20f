import NIOCore
import TransportCore

/// What a sandbox server shares between its connections: the open sockets, the counters and the
/// current behavior. Thread-safe; connections on any event loop use it.
final class SandboxRegistry: Sendable {
    private struct State {
        var behavior = SandboxBehavior()
        /// Every accepted TCP connection, upgraded or not, so a stop can close them all.
        var connections: [ObjectIdentifier: any Channel] = [:]
        var webSockets: Set<ObjectIdentifier> = []
        var statistics = SandboxStatistics()
    }

    private let state = Locked(State())

    var behavior: SandboxBehavior {
        get { state.withLock { $0.behavior } }
        set { state.withLock { $0.behavior = newValue } }
    }

    var statistics: SandboxStatistics { state.withLock { $0.statistics } }

    func connectionAccepted(_ channel: any Channel) {
        state.withLock { $0.connections[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func webSocketOpened(_ channel: any Channel) {
        state.withLock { state in
            if state.webSockets.insert(ObjectIdentifier(channel)).inserted {
                state.statistics.connectionsAccepted += 1
                state.statistics.openConnections += 1
            }
        }
    }

    func webSocketClosed(_ channel: any Channel) {
        state.withLock { state in
            if state.webSockets.remove(ObjectIdentifier(channel)) != nil {
                state.statistics.openConnections -= 1
            }
        }
    }

    func authTokenReceived(_ token: String) {
        state.withLock { $0.statistics.lastAuthToken = token }
    }

    func messageReceived() {
        state.withLock { $0.statistics.messagesReceived += 1 }
    }

    /// The open connections, split into upgraded WebSockets and plain HTTP ones.
    func openConnections() -> (webSockets: [any Channel], others: [any Channel]) {
        state.withLock { state in
            var webSockets: [any Channel] = []
            var others: [any Channel] = []
            for (id, channel) in state.connections {
                if state.webSockets.contains(id) { webSockets.append(channel) } else { others.append(channel) }
            }
            return (webSockets, others)
        }
    }
}

/// Counters of a sandbox server since it was created (restarts included), for tests.
public struct SandboxStatistics: Sendable, Hashable {
    /// WebSocket upgrades completed.
    public var connectionsAccepted = 0
    /// Text and binary messages received from clients.
    public var messagesReceived = 0
    /// WebSockets open now.
    public var openConnections = 0
    /// The auth token of the last upgrade that carried one (Phoenix 1.8's
    /// `base64url.bearer.phx.<token>` subprotocol), decoded.
    public var lastAuthToken: String?

    /// All counters at zero.
    public init() {}
}
