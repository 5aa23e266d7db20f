/// The machine's record of one channel (one topic).
struct PhoenixChannelRecord: Sendable {
    enum Phase: Sendable, Hashable {
        case waitingForSocket
        case awaitingParams(deadline: PhoenixInstant)
        case joining(joinRef: String, deadline: PhoenixInstant)
        case joined(joinRef: String)
        case errored(rejoinAt: PhoenixInstant)
        case leaving(joinRef: String, leaveRef: String, deadline: PhoenixInstant)
    }

    let topic: String
    /// Creation order: rejoins and bulk events go in this order, whatever the dictionary's.
    let order: UInt64
    var params: PhoenixPayload
    var options: PhoenixChannelOptions
    var phase: Phase = .waitingForSocket
    /// Pushes waiting for the join, oldest first.
    var buffered: [PhoenixPushID] = []
    /// Pushes sent and waiting for their reply.
    var inFlight: Set<PhoenixPushID> = []
    /// Joins sent so far; any after the first is a rejoin.
    var joinsSent = 0
    /// Consecutive rejoins after errors or timeouts (reset when joined).
    var rejoinAttempt = 0
    /// Consecutive server rejections (reset when joined).
    var rejections = 0
    /// Serial of the channel's live timer in the timer queue.
    var timerSerial: UInt64?

    /// The join ref the server knows this channel by, when it has one.
    var currentJoinRef: String? {
        switch phase {
        case .joining(let joinRef, _), .joined(let joinRef), .leaving(let joinRef, _, _): joinRef
        case .waitingForSocket, .awaitingParams, .errored: nil
        }
    }

    var publicState: PhoenixChannelState {
        switch phase {
        case .waitingForSocket: .waitingForSocket
        case .awaitingParams: .awaitingParams
        case .joining(let joinRef, _): .joining(joinRef: joinRef)
        case .joined(let joinRef): .joined(joinRef: joinRef)
        case .errored(let rejoinAt): .errored(rejoinAt: rejoinAt)
        case .leaving: .leaving
        }
    }
}

/// The machine's record of one push, from `push` to its completion.
struct PhoenixPushRecord: Sendable {
    enum Stage: Sendable, Hashable {
        case buffered
        case inFlight(ref: String)
    }

    let topic: String
    let event: String
    let payload: PhoenixPayload
    let deadline: PhoenixInstant
    var stage: Stage
    var timerSerial: UInt64
}
