import Foundation
import NIOCore
import PhoenixProtocol
import TransportCore

/// A room message for a connection, fired into its pipeline as a user event on its event loop.
struct SandboxRoomDelivery: Sendable {
    var message: PhoenixMessage
}

/// An agent took or released an interlocutor's conversation: each connection pushes `control`
/// to its channel of that interlocutor, if joined (fired as a user event on its event loop).
struct SandboxControlDelivery: Sendable {
    var interlocutorID: String
    var taken: Bool
    var at: Date
}

/// What a sandbox server shares between its connections: the open sockets, the counters, the
/// current behavior, the `room:*` rooms and who holds each conversation. Thread-safe;
/// connections on any event loop use it.
final class SandboxRegistry: Sendable {
    private struct State {
        var behavior = SandboxBehavior()
        /// Every accepted TCP connection, upgraded or not, so a stop can close them all.
        var connections: [ObjectIdentifier: any Channel] = [:]
        var webSockets: Set<ObjectIdentifier> = []
        /// Connections whose upgrade was accepted and whose WebSocket handler is not in place
        /// yet: the client may already hold the 101 answer.
        var upgrading: Set<ObjectIdentifier> = []
        /// Close requests for upgrading connections, applied when their handler is in place.
        var pendingCloses: [ObjectIdentifier: SandboxCloseRequest] = [:]
        var statistics = SandboxStatistics()
        var rooms = SandboxRooms()
        /// Where each WebSocket connection's room messages go.
        var mailboxes: [SandboxRooms.ConnectionID: any Channel] = [:]
        var nextConnectionID: SandboxRooms.ConnectionID = 1
    }

    private let state = Locked(State())
    /// Who holds each interlocutor's conversation; kept across connections and restarts.
    let control = SandboxControl()

    var behavior: SandboxBehavior {
        get { state.withLock { $0.behavior } }
        set { state.withLock { $0.behavior = newValue } }
    }

    var statistics: SandboxStatistics { state.withLock { $0.statistics } }

    func connectionAccepted(_ channel: any Channel) {
        state.withLock { $0.connections[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { state in
                let id = ObjectIdentifier(channel)
                state.connections[id] = nil
                state.upgrading.remove(id)
                state.pendingCloses[id] = nil
            }
        }
    }

    /// The server accepted `channel`'s upgrade and is about to answer 101.
    func upgradeAccepted(_ channel: any Channel) {
        state.withLock { _ = $0.upgrading.insert(ObjectIdentifier(channel)) }
    }

    /// `channel`'s WebSocket handler is in place. Returns the close request made while it was
    /// upgrading, if any: the handler applies it at once.
    func webSocketOpened(_ channel: any Channel) -> SandboxCloseRequest? {
        state.withLock { state in
            let id = ObjectIdentifier(channel)
            state.upgrading.remove(id)
            if state.webSockets.insert(id).inserted {
                state.statistics.connectionsAccepted += 1
                state.statistics.openConnections += 1
            }
            return state.pendingCloses.removeValue(forKey: id)
        }
    }

    func webSocketClosed(_ channel: any Channel) {
        state.withLock { state in
            if state.webSockets.remove(ObjectIdentifier(channel)) != nil {
                state.statistics.openConnections -= 1
            }
        }
    }

    /// A WebSocket connection that may join rooms: its id for `room(_:from:at:)`.
    func roomMailboxOpened(_ channel: any Channel) -> SandboxRooms.ConnectionID {
        state.withLock { state in
            let id = state.nextConnectionID
            state.nextConnectionID += 1
            state.mailboxes[id] = channel
            return id
        }
    }

    /// Runs a room request of connection `id`. Returns the messages for `id` itself, in order,
    /// for the caller to send at once; messages for other connections are queued on their event
    /// loops while the lock is held, so every connection gets them in the order the rooms made
    /// them.
    func room(_ request: SandboxSession.RoomRequest, from id: SandboxRooms.ConnectionID, at now: Date)
        -> [PhoenixMessage]
    {
        state.withLock { state in
            Self.dispatch(state.rooms.handle(request, from: id, at: now), to: state.mailboxes, keeping: id)
        }
    }

    /// Connection `id` closed: it leaves its rooms, and the other members are told.
    func roomMailboxClosed(_ id: SandboxRooms.ConnectionID) {
        state.withLock { state in
            state.mailboxes[id] = nil
            _ = Self.dispatch(state.rooms.connectionClosed(id), to: state.mailboxes, keeping: id)
        }
    }

    private static func dispatch(
        _ deliveries: [SandboxRooms.Delivery],
        to mailboxes: [SandboxRooms.ConnectionID: any Channel],
        keeping own: SandboxRooms.ConnectionID
    ) -> [PhoenixMessage] {
        var mine: [PhoenixMessage] = []
        for delivery in deliveries {
            if delivery.connection == own {
                mine.append(delivery.message)
            } else if let channel = mailboxes[delivery.connection] {
                let event = SandboxRoomDelivery(message: delivery.message)
                channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(event) }
            }
        }
        return mine
    }

    /// An agent takes or releases `interlocutorID`'s conversation. When that changes the state,
    /// every connection with that interlocutor's channel joined gets `control`; returns whether
    /// it changed.
    func setControl(interlocutorID: String, taken: Bool, at now: Date) -> Bool {
        state.withLock { state in
            // Under the lock, so that two changes reach every connection in the same order.
            guard control.set(interlocutorID: interlocutorID, taken: taken) else { return false }
            let event = SandboxControlDelivery(interlocutorID: interlocutorID, taken: taken, at: now)
            for channel in state.mailboxes.values {
                channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(event) }
            }
            return true
        }
    }

    func authTokenReceived(_ token: String) {
        state.withLock { $0.statistics.lastAuthToken = token }
    }

    func messageReceived() {
        state.withLock { $0.statistics.messagesReceived += 1 }
    }

    /// Asks every open connection to close with `request`: returns the upgraded WebSockets (to
    /// be sent the request), the plain HTTP ones (to be closed) and all of them (to await). A
    /// connection between its 101 answer and its WebSocket handler keeps the request until the
    /// handler is in place: its client may already see an open WebSocket, which must get the
    /// close frame asked for, not a bare TCP close.
    func requestClose(_ request: SandboxCloseRequest) -> (
        webSockets: [any Channel], others: [any Channel], all: [any Channel]
    ) {
        state.withLock { state in
            var webSockets: [any Channel] = []
            var others: [any Channel] = []
            for (id, channel) in state.connections {
                if state.webSockets.contains(id) {
                    webSockets.append(channel)
                } else if state.upgrading.contains(id) {
                    state.pendingCloses[id] = request
                } else {
                    others.append(channel)
                }
            }
            return (webSockets, others, Array(state.connections.values))
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
