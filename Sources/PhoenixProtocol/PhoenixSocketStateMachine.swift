/// The Phoenix socket and its channels as one pure state machine (sans I/O).
///
/// Inputs are what happened (`transportOpened`, `frameReceived`, `transportClosed`,
/// `transportFailed`, `timerFired`) and what the user asked (`connect`, `disconnect`, `join`,
/// `rejoin`, `push`, `leave`, `reconnectNow`, `joinParamsProvided`). Each returns the actions
/// the caller runs, in order. Time comes in as `PhoenixInstant` values; call `timerFired(now:)`
/// when `nextDeadline` is reached. The machine never reads a clock nor touches a socket.
///
/// Rules (Phoenix protocol sections 1, 3, 4, 5, and where ours differs):
/// - Refs are a socket-wide counter ("1", "2", ...) that never resets. Every join takes a fresh
///   ref, which becomes the channel's join ref. In v2 pushes and leaves carry the join ref; in v1
///   only joins and leaves do (as the reference client). Heartbeats never do.
/// - Heartbeat `[null, ref, "phoenix", "heartbeat", {}]` every `heartbeatInterval` while open. If
///   the previous one is unanswered when the next is due: `heartbeatTimedOut`, close 1000
///   "heartbeat timeout", reconnect.
/// - Reconnect after every close the user did not ask for, as `PhoenixReconnectPolicy` says
///   (delays, jitter, max attempts, close codes); the count resets when the socket opens.
///   `reconnectNow` skips the wait. A heartbeat timeout always reconnects (within max attempts).
///   When the policy gives up, channels stay and rejoin if the user calls `connect` again.
/// - On open every channel not joined rejoins at once with a fresh join ref. After `phx_error`
///   or a join timeout a channel rejoins on `rejoinDelays` (1, 2, 5, then 10 s); timeouts are
///   network trouble and keep retrying on that schedule.
/// - A rejected join goes through the channel's `PhoenixJoinErrorPolicy`: default report and
///   stop; bounded retries, optionally with refreshed params (`requestJoinParams`).
/// - One channel per topic: a second `join` throws `alreadyJoined`; `rejoin(topic:params:)`
///   replaces the server's channel on purpose (the server then closes the old join, whose
///   `phx_close` is stale and dropped).
/// - Messages whose join ref is set and is not the channel's current one are dropped; replies
///   are matched by ref (and topic). Unknown refs and topics are dropped, never trapped on.
/// - Pushes wait (bounded per channel) until the channel is joined, then go in order. Each
///   completes exactly once: reply ok, reply error, timeout, or cancelled. A push (or join) whose
///   frame is over `maxOutboundFrameSize` is never sent: it fails `tooLarge` when it would go
///   out, and the pushes behind it still go. A push in flight when
///   the socket drops completes `.cancelled(.connectionLost(loss))` at once and is never re-sent (the
///   server may have handled it); buffered pushes stay buffered until their timeout.
/// - `disconnect` closes every channel (`.disconnected`) and cancels their pushes; a later
///   `connect` starts with no channels.
public struct PhoenixSocketStateMachine: Sendable {
    /// The socket's URL, wire format, timeouts and policies.
    public let configuration: PhoenixSocketConfiguration

    enum SocketPhase: Sendable, Hashable {
        case idle
        case connecting(attempt: Int)
        case open(nextHeartbeat: PhoenixInstant, pendingHeartbeat: String?)
        case closing(deadline: PhoenixInstant, reconnects: Bool)
        case waitingToReconnect(attempt: Int, at: PhoenixInstant)
        case closed
    }

    enum ReplyRoute: Sendable, Hashable {
        case heartbeat
        case join(topic: String, joinRef: String)
        case leave(topic: String)
        case push(topic: String, id: PhoenixPushID)
    }

    private var phase: SocketPhase = .idle
    private var channels: [String: PhoenixChannelRecord] = [:]
    private var pushes: [PhoenixPushID: PhoenixPushRecord] = [:]
    private var replyRoutes: [String: ReplyRoute] = [:]
    private var timers = PhoenixTimerQueue()
    private var lastRef: UInt64 = 0
    private var lastPushID: UInt64 = 0
    private var lastChannelOrder: UInt64 = 0
    private var random: SplitMix64
    private var consecutiveReconnects = 0
    /// Topics and event names of recent frames, reused by the next frames' decoding.
    private var names: PhoenixNameCache? = PhoenixNameCache()

    /// Inbound messages dropped as stale or unroutable (unknown ref, topic, or old join ref).
    public private(set) var droppedMessageCount = 0

    /// A machine for `configuration`, idle: nothing happens until `connect(now:)`.
    public init(configuration: PhoenixSocketConfiguration) {
        self.configuration = configuration
        random = SplitMix64(seed: configuration.reconnectPolicy.jitterSeed)
    }

    // MARK: Observation

    /// Where the socket is in its life.
    public var state: PhoenixSocketState {
        switch phase {
        case .idle: .idle
        case .connecting(let attempt): .connecting(attempt: attempt)
        case .open: .open
        case .closing: .closing
        case .waitingToReconnect(let attempt, let at): .waitingToReconnect(attempt: attempt, at: at)
        case .closed: .closed
        }
    }

    /// The reconnect attempt scheduled or under way; 0 while open or before any failure.
    public var reconnectAttempt: Int { consecutiveReconnects }

    /// When the next reconnect attempt starts, if one is scheduled.
    public var nextReconnectDeadline: PhoenixInstant? {
        if case .waitingToReconnect(_, let at) = phase { return at }
        return nil
    }

    /// The earliest instant at which `timerFired(now:)` has work: heartbeat, reconnect, close
    /// timeout, join/leave/params timeouts, rejoins, push timeouts.
    public var nextDeadline: PhoenixInstant? {
        let socketDeadline = socketTimer
        guard let channelDeadline = timers.first?.deadline else { return socketDeadline }
        guard let socketDeadline else { return channelDeadline }
        return min(socketDeadline, channelDeadline)
    }

    /// The channel for `topic`, if there is one.
    public func channelState(topic: String) -> PhoenixChannelState? { channels[topic]?.publicState }

    /// How many channels the socket holds.
    public var channelCount: Int { channels.count }

    /// How many pushes are not completed yet (buffered or in flight).
    public var pendingPushCount: Int { pushes.count }

    private var socketTimer: PhoenixInstant? {
        switch phase {
        case .open(let nextHeartbeat, _): nextHeartbeat
        case .closing(let deadline, _): deadline
        case .waitingToReconnect(_, let at): at
        case .idle, .connecting, .closed: nil
        }
    }

    // MARK: User commands: socket

    /// Starts connecting (from idle or closed); while waiting to reconnect, same as `reconnectNow`.
    public mutating func connect(now: PhoenixInstant) -> [PhoenixSocketAction] {
        switch phase {
        case .idle, .closed:
            consecutiveReconnects = 0
            phase = .connecting(attempt: 0)
            return [openTransportAction]
        case .waitingToReconnect:
            return reconnectNow(now: now)
        case .connecting, .open, .closing:
            return []
        }
    }

    /// Starts the scheduled reconnect attempt now.
    public mutating func reconnectNow(now: PhoenixInstant) -> [PhoenixSocketAction] {
        switch phase {
        case .waitingToReconnect(let attempt, _):
            phase = .connecting(attempt: attempt)
            return [openTransportAction]
        case .closed:
            return connect(now: now)
        case .idle, .connecting, .open, .closing:
            return []
        }
    }

    /// Closes every channel and the socket; no reconnect.
    public mutating func disconnect(now: PhoenixInstant) -> [PhoenixSocketAction] {
        var actions: [PhoenixSocketAction] = []
        for topic in topicsInOrder() {
            removeChannel(topic, pushResult: .cancelled(.disconnected), into: &actions)
            actions.append(.emit(.channelClosed(topic: topic, reason: .disconnected)))
        }
        replyRoutes.removeAll()
        switch phase {
        case .connecting, .open:
            actions.append(.closeTransport(code: 1000, reason: ""))
            phase = .closing(deadline: now.advanced(by: configuration.closeTimeout), reconnects: false)
        case .closing(let deadline, _):
            phase = .closing(deadline: deadline, reconnects: false)
        case .idle, .waitingToReconnect, .closed:
            phase = .closed
        }
        prune()
        return actions
    }

    // MARK: User commands: channels

    /// Creates the channel for `topic` and joins it now if the socket is open, else when it opens.
    ///
    /// - Throws: `alreadyJoined` if the topic has a channel (one channel per topic);
    ///   `reservedTopic` for `phoenix`; `unencodable` if the join cannot be written; `tooLarge`
    ///   if its frame is over `configuration.maxOutboundFrameSize`.
    public mutating func join(
        topic: String,
        params: PhoenixPayload = .emptyObject,
        options: PhoenixChannelOptions? = nil,
        now: PhoenixInstant
    ) throws(PhoenixSocketError) -> [PhoenixSocketAction] {
        guard topic != PhoenixEvent.heartbeatTopic else { throw .reservedTopic(topic) }
        guard channels[topic] == nil else { throw .alreadyJoined(topic: topic) }
        try checkJoin(topic: topic, params: params)
        lastChannelOrder += 1
        channels[topic] = PhoenixChannelRecord(
            topic: topic,
            order: lastChannelOrder,
            params: params,
            options: options ?? configuration.channelDefaults
        )
        var actions: [PhoenixSocketAction] = []
        if isOpen { startJoin(topic, now: now, into: &actions) }
        prune()
        return actions
    }

    /// Joins `topic` again with new params and a fresh join ref, on purpose: the server replaces
    /// its channel (and sends `phx_close` for the old join ref, which is dropped as stale).
    /// Resets the rejection and rejoin counts. Pushes in flight keep waiting for their reply or
    /// timeout; new pushes wait for the new join. Without an open socket it only stores the params.
    ///
    /// - Throws: `unknownTopic`, `channelLeaving`; `unencodable` or `tooLarge` (as `join`) with
    ///   the channel left as it was.
    public mutating func rejoin(
        topic: String,
        params: PhoenixPayload,
        now: PhoenixInstant
    ) throws(PhoenixSocketError) -> [PhoenixSocketAction] {
        guard var channel = channels[topic] else { throw .unknownTopic(topic) }
        if case .leaving = channel.phase { throw .channelLeaving(topic: topic) }
        try checkJoin(topic: topic, params: params)
        if case .joining(let joinRef, _) = channel.phase { replyRoutes[joinRef] = nil }
        channel.params = params
        channel.rejections = 0
        channel.rejoinAttempt = 0
        channel.timerSerial = nil
        if !isOpen { channel.phase = .waitingForSocket }
        channels[topic] = channel
        var actions: [PhoenixSocketAction] = []
        if isOpen { sendJoin(topic, now: now, into: &actions) }
        prune()
        return actions
    }

    /// Fresh params after `requestJoinParams`: the join goes out now. At any other time the
    /// params are stored for the next join.
    public mutating func joinParamsProvided(
        topic: String,
        params: PhoenixPayload,
        now: PhoenixInstant
    ) -> [PhoenixSocketAction] {
        guard var channel = channels[topic] else { return [] }
        channel.params = params
        channels[topic] = channel
        var actions: [PhoenixSocketAction] = []
        if case .awaitingParams = channel.phase, isOpen { sendJoin(topic, now: now, into: &actions) }
        prune()
        return actions
    }

    /// Leaves the channel: cancels its buffered pushes (`.left`), sends `phx_leave` if the server
    /// knows the channel, and closes it on the reply (or the timeout). Pushes in flight keep
    /// their chance of a reply until then.
    public mutating func leave(topic: String, now: PhoenixInstant) throws(PhoenixSocketError) -> [PhoenixSocketAction] {
        guard var channel = channels[topic] else { throw .unknownTopic(topic) }
        var actions: [PhoenixSocketAction] = []
        if case .leaving = channel.phase { return [] }
        for id in channel.buffered { complete(id, .cancelled(.left), into: &actions) }
        channel.buffered = []
        channels[topic] = channel
        guard isOpen, let joinRef = channel.currentJoinRef else {
            removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
            actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
            prune()
            return actions
        }
        if case .joining = channel.phase { replyRoutes[joinRef] = nil }
        let ref = makeRef()
        let deadline = later(now, by: channel.options.joinTimeout)
        channel.phase = .leaving(joinRef: joinRef, leaveRef: ref, deadline: deadline)
        channel.timerSerial = timers.schedule(.channel(topic: topic), at: deadline)
        channels[topic] = channel
        replyRoutes[ref] = .leave(topic: topic)
        let message = PhoenixMessage(
            joinRef: joinRef,
            ref: ref,
            topic: topic,
            event: PhoenixEvent.leave,
            payload: .emptyObject
        )
        if let frame = try? configuration.serializer.encode(message) { actions.append(.send(frame)) }
        prune()
        return actions
    }

    /// Pushes `event` with `payload` on `topic`: sent now if joined, else buffered. The result
    /// comes later as one `completePush(id, ...)` (or in the returned actions, e.g. `bufferFull`).
    ///
    /// - Throws: `unknownTopic` without a channel, `channelLeaving` while it leaves.
    public mutating func push(
        topic: String,
        event: String,
        payload: PhoenixPayload,
        timeout: Duration? = nil,
        now: PhoenixInstant
    ) throws(PhoenixSocketError) -> (id: PhoenixPushID, actions: [PhoenixSocketAction]) {
        guard let phase = channels[topic]?.phase else { throw .unknownTopic(topic) }
        if case .leaving = phase { throw .channelLeaving(topic: topic) }
        // Out of the dictionary while it changes: a copy beside the stored one would copy its
        // sets and arrays on the first change.
        guard var channel = channels.removeValue(forKey: topic) else { throw .unknownTopic(topic) }
        lastPushID += 1
        let id = PhoenixPushID(rawValue: lastPushID)
        var actions: [PhoenixSocketAction] = []
        if case .joined(let joinRef) = channel.phase {
            let deadline = now.advanced(by: timeout ?? configuration.pushTimeout)
            let serial = timers.schedule(.push(id), at: deadline)
            pushes[id] = PhoenixPushRecord(
                topic: topic,
                event: event,
                payload: payload,
                deadline: deadline,
                stage: .buffered,
                timerSerial: serial
            )
            send(id, joinRef: joinRef, channel: &channel, into: &actions)
        } else if channel.buffered.count >= channel.options.pushBufferLimit {
            actions.append(.completePush(id, .cancelled(.bufferFull(limit: channel.options.pushBufferLimit))))
        } else {
            let deadline = now.advanced(by: timeout ?? configuration.pushTimeout)
            let serial = timers.schedule(.push(id), at: deadline)
            pushes[id] = PhoenixPushRecord(
                topic: topic,
                event: event,
                payload: payload,
                deadline: deadline,
                stage: .buffered,
                timerSerial: serial
            )
            channel.buffered.append(id)
        }
        channels[topic] = channel
        prune()
        return (id, actions)
    }

    // MARK: Transport events

    /// The transport the machine asked for is open.
    public mutating func transportOpened(now: PhoenixInstant) -> [PhoenixSocketAction] {
        guard case .connecting = phase else { return [] }
        consecutiveReconnects = 0
        phase = .open(nextHeartbeat: later(now, by: configuration.heartbeatInterval), pendingHeartbeat: nil)
        var actions: [PhoenixSocketAction] = [.emit(.socketOpened)]
        for topic in topicsInOrder() {
            guard let channel = channels[topic] else { continue }
            switch channel.phase {
            case .waitingForSocket, .errored, .awaitingParams:
                startJoin(topic, now: now, into: &actions)
            case .joining, .joined, .leaving:
                break  // cannot happen: the drop moved them; left alone rather than trapping
            }
        }
        prune()
        return actions
    }

    /// One frame from the server.
    public mutating func frameReceived(_ frame: PhoenixFrame, now: PhoenixInstant) -> [PhoenixSocketAction] {
        guard case .open = phase else {
            droppedMessageCount += 1
            return []
        }
        let message: PhoenixMessage
        do {
            message = try configuration.serializer.decode(frame, names: &names)
        } catch {
            return [.emit(.decodeFailed(error))]
        }
        var actions: [PhoenixSocketAction] = []
        switch message.kind {
        case .reply(let status): handleReply(message, status: status, now: now, into: &actions)
        case .event(let event): handleEvent(message, event: event, now: now, into: &actions)
        }
        prune()
        return actions
    }

    /// The transport closed with a close frame (`code` nil when it had none).
    public mutating func transportClosed(code: UInt16?, reason: String, now: PhoenixInstant) -> [PhoenixSocketAction] {
        transportEnded(code: code, reason: reason, permanent: false, now: now)
    }

    /// The transport failed (connect error, TLS, reset): like a close without a close frame.
    ///
    /// - Parameter description: what failed, in words (reported with the close).
    /// - Parameter permanent: the transport says retrying cannot help (a certificate that fails
    ///   verification). Unless the policy's `retriesPermanentFailures` is set, no reconnect is
    ///   scheduled: the socket closes with `reconnectAbandoned`, in every phase (first attempt,
    ///   reconnect attempt, or a drop of an open socket); `connect` starts over.
    /// - Parameter now: the time of the failure.
    public mutating func transportFailed(
        _ description: String,
        permanent: Bool = false,
        now: PhoenixInstant
    ) -> [PhoenixSocketAction] {
        transportEnded(code: nil, reason: description, permanent: permanent, now: now)
    }

    private mutating func transportEnded(
        code: UInt16?,
        reason: String,
        permanent: Bool,
        now: PhoenixInstant
    ) -> [PhoenixSocketAction] {
        var actions: [PhoenixSocketAction] = []
        let stops = permanent && !configuration.reconnectPolicy.retriesPermanentFailures
        switch phase {
        case .connecting:
            actions.append(.emit(.socketClosed(code: code, reason: reason)))
            scheduleReconnect(afterCode: code, checkCode: true, stops: stops, now: now, into: &actions)
        case .open:
            connectionLost(.closed(code: code, reason: reason), into: &actions)
            actions.append(.emit(.socketClosed(code: code, reason: reason)))
            scheduleReconnect(afterCode: code, checkCode: true, stops: stops, now: now, into: &actions)
        case .closing(_, let reconnects):
            actions.append(.emit(.socketClosed(code: code, reason: reason)))
            if reconnects {
                scheduleReconnect(afterCode: code, checkCode: false, stops: stops, now: now, into: &actions)
            } else {
                phase = .closed
            }
        case .idle, .waitingToReconnect, .closed:
            break  // a connection the machine already let go of
        }
        prune()
        return actions
    }

    // MARK: Time

    /// Runs every timer due at `now`, earliest first.
    public mutating func timerFired(now: PhoenixInstant) -> [PhoenixSocketAction] {
        var actions: [PhoenixSocketAction] = []
        while true {
            prune()
            let socketDue = socketTimer.flatMap { $0 <= now ? $0 : nil }
            let entryDue = timers.first.flatMap { $0.deadline <= now ? $0.deadline : nil }
            if let socketDue, socketDue <= (entryDue ?? socketDue) {
                socketTimerFired(now: now, into: &actions)
            } else if entryDue != nil, let entry = timers.popFirst() {
                entryFired(entry, now: now, into: &actions)
            } else {
                break
            }
        }
        prune()
        return actions
    }

    // MARK: Internals: socket

    private var isOpen: Bool {
        if case .open = phase { return true }
        return false
    }

    private var openTransportAction: PhoenixSocketAction {
        .openTransport(url: configuration.url, subprotocols: configuration.subprotocols)
    }

    private mutating func makeRef() -> String {
        lastRef += 1
        return String(lastRef)
    }

    /// `now + span`, at least 1 ms later: a zero timeout or interval set by a caller must not
    /// make a timer due again inside the same `timerFired`.
    private func later(_ now: PhoenixInstant, by span: Duration) -> PhoenixInstant {
        now.advanced(by: max(span, .milliseconds(1)))
    }

    private func topicsInOrder() -> [String] {
        channels.values.sorted { $0.order < $1.order }.map(\.topic)
    }

    private mutating func socketTimerFired(now: PhoenixInstant, into actions: inout [PhoenixSocketAction]) {
        switch phase {
        case .open(_, let pending):
            if pending != nil {
                actions.append(.emit(.heartbeatTimedOut))
                actions.append(.closeTransport(code: 1000, reason: "heartbeat timeout"))
                connectionLost(.heartbeatTimedOut, into: &actions)
                phase = .closing(deadline: now.advanced(by: configuration.closeTimeout), reconnects: true)
                return
            }
            let ref = makeRef()
            replyRoutes[ref] = .heartbeat
            phase = .open(nextHeartbeat: later(now, by: configuration.heartbeatInterval), pendingHeartbeat: ref)
            let message = PhoenixMessage(
                joinRef: nil,
                ref: ref,
                topic: PhoenixEvent.heartbeatTopic,
                event: PhoenixEvent.heartbeat,
                payload: .emptyObject
            )
            if let frame = try? configuration.serializer.encode(message) { actions.append(.send(frame)) }
        case .closing(_, let reconnects):
            // The transport never confirmed the close: go on without it.
            actions.append(.emit(.socketClosed(code: nil, reason: "the transport did not confirm the close")))
            if reconnects {
                scheduleReconnect(afterCode: nil, checkCode: false, now: now, into: &actions)
            } else {
                phase = .closed
            }
        case .waitingToReconnect(let attempt, _):
            phase = .connecting(attempt: attempt)
            actions.append(openTransportAction)
        case .idle, .connecting, .closed:
            break
        }
    }

    /// `stops`: the failure was permanent and the policy does not retry those.
    private mutating func scheduleReconnect(
        afterCode code: UInt16?,
        checkCode: Bool,
        stops: Bool = false,
        now: PhoenixInstant,
        into actions: inout [PhoenixSocketAction]
    ) {
        let policy = configuration.reconnectPolicy
        let attempt = consecutiveReconnects + 1
        if stops || (checkCode && !policy.reconnects(afterCloseCode: code)) {
            phase = .closed
            actions.append(.emit(.reconnectAbandoned(attempts: consecutiveReconnects)))
            return
        }
        if let maxAttempts = policy.maxAttempts, attempt > maxAttempts {
            phase = .closed
            actions.append(.emit(.reconnectAbandoned(attempts: consecutiveReconnects)))
            return
        }
        let unit = policy.jitter > 0 ? random.nextUnit() : 0.5
        let at = now.advanced(by: policy.delay(forAttempt: attempt, unit: unit))
        consecutiveReconnects = attempt
        phase = .waitingToReconnect(attempt: attempt, at: at)
        actions.append(.emit(.reconnectScheduled(attempt: attempt, at: at)))
    }

    /// The connection is gone: channels wait for the next one, pushes in flight are cancelled.
    private mutating func connectionLost(_ loss: PhoenixConnectionLoss, into actions: inout [PhoenixSocketAction]) {
        replyRoutes.removeAll()
        for topic in topicsInOrder() {
            guard var channel = channels[topic] else { continue }
            for id in channel.inFlight.sorted() { complete(id, .cancelled(.connectionLost(loss)), into: &actions) }
            channel.inFlight = []
            switch channel.phase {
            case .leaving:
                channels[topic] = channel
                removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
                actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
                continue
            case .joining, .joined, .awaitingParams:
                channel.phase = .waitingForSocket
                channel.timerSerial = nil
                actions.append(.emit(.channelErrored(topic: topic, reason: .connectionLost(loss), rejoinAt: nil)))
            case .errored:
                channel.phase = .waitingForSocket
                channel.timerSerial = nil
            case .waitingForSocket:
                break
            }
            channels[topic] = channel
        }
    }

    // MARK: Internals: channels

    /// Refuses params the join could not be sent with: unencodable, or a frame over the limit.
    /// The real refs may be a few digits longer than the trial's: `sendJoin` checks again.
    private func checkJoin(topic: String, params: PhoenixPayload) throws(PhoenixSocketError) {
        let trial = PhoenixMessage(joinRef: "0", ref: "0", topic: topic, event: PhoenixEvent.join, payload: params)
        let frame: PhoenixFrame
        do {
            frame = try configuration.serializer.encode(trial)
        } catch {
            throw .unencodable(error)
        }
        if let size = configuration.oversize(frame), let limit = configuration.maxOutboundFrameSize {
            throw .tooLarge(size: size, limit: limit)
        }
    }

    private mutating func startJoin(_ topic: String, now: PhoenixInstant, into actions: inout [PhoenixSocketAction]) {
        guard var channel = channels[topic] else { return }
        if channel.joinsSent > 0 && channel.options.refreshesParams {
            let deadline = later(now, by: channel.options.joinTimeout)
            channel.phase = .awaitingParams(deadline: deadline)
            channel.timerSerial = timers.schedule(.channel(topic: topic), at: deadline)
            channels[topic] = channel
            actions.append(.requestJoinParams(topic: topic))
        } else {
            sendJoin(topic, now: now, into: &actions)
        }
    }

    private mutating func sendJoin(_ topic: String, now: PhoenixInstant, into actions: inout [PhoenixSocketAction]) {
        guard var channel = channels[topic] else { return }
        let joinRef = makeRef()
        let message = PhoenixMessage(
            joinRef: joinRef,
            ref: joinRef,
            topic: topic,
            event: PhoenixEvent.join,
            payload: channel.params
        )
        let frame: PhoenixFrame
        do {
            frame = try configuration.serializer.encode(message)
        } catch {
            removeChannel(topic, pushResult: .cancelled(.joinFailed), into: &actions)
            actions.append(.emit(.channelJoinFailed(topic: topic, failure: .unencodable(error), retryAt: nil)))
            return
        }
        if let size = configuration.oversize(frame), let limit = configuration.maxOutboundFrameSize {
            // Params refreshed or replaced since `join`: the server never sees this join.
            removeChannel(topic, pushResult: .cancelled(.joinFailed), into: &actions)
            actions.append(
                .emit(.channelJoinFailed(topic: topic, failure: .tooLarge(size: size, limit: limit), retryAt: nil)))
            return
        }
        let deadline = later(now, by: channel.options.joinTimeout)
        channel.phase = .joining(joinRef: joinRef, deadline: deadline)
        channel.timerSerial = timers.schedule(.channel(topic: topic), at: deadline)
        channel.joinsSent += 1
        channels[topic] = channel
        replyRoutes[joinRef] = .join(topic: topic, joinRef: joinRef)
        actions.append(.send(frame))
    }

    /// Sends a recorded push with a fresh ref and moves it in flight.
    private mutating func send(
        _ id: PhoenixPushID,
        joinRef: String,
        channel: inout PhoenixChannelRecord,
        into actions: inout [PhoenixSocketAction]
    ) {
        guard var push = pushes[id] else { return }
        let ref = makeRef()
        let message = PhoenixMessage(
            joinRef: configuration.serializer == .jsonV1 ? nil : joinRef,
            ref: ref,
            topic: push.topic,
            event: push.event,
            payload: push.payload
        )
        do {
            let frame = try configuration.serializer.encode(message)
            if let size = configuration.oversize(frame), let limit = configuration.maxOutboundFrameSize {
                // Never handed to the transport, which would refuse it; the frames behind go on.
                pushes[id] = nil
                actions.append(.completePush(id, .cancelled(.tooLarge(size: size, limit: limit))))
                return
            }
            push.stage = .inFlight(ref: ref)
            pushes[id] = push
            channel.inFlight.insert(id)
            replyRoutes[ref] = .push(topic: push.topic, id: id)
            actions.append(.send(frame))
        } catch {
            pushes[id] = nil
            actions.append(.completePush(id, .cancelled(.unencodable(error))))
        }
    }

    private mutating func handleReply(
        _ message: PhoenixMessage,
        status: String,
        now: PhoenixInstant,
        into actions: inout [PhoenixSocketAction]
    ) {
        guard let ref = message.ref, let route = replyRoutes[ref] else {
            droppedMessageCount += 1
            return
        }
        switch route {
        case .heartbeat:
            guard message.topic == PhoenixEvent.heartbeatTopic else { return dropMessage() }
            replyRoutes[ref] = nil
            if case .open(let next, let pending) = phase, pending == ref {
                phase = .open(nextHeartbeat: next, pendingHeartbeat: nil)
            }
        case .join(let topic, let joinRef):
            guard message.topic == topic else { return dropMessage() }
            replyRoutes[ref] = nil
            guard var channel = channels[topic], case .joining(joinRef, _) = channel.phase else {
                return dropMessage()
            }
            if status == "ok" {
                channel.phase = .joined(joinRef: joinRef)
                channel.timerSerial = nil
                channel.rejoinAttempt = 0
                channel.rejections = 0
                let waiting = channel.buffered
                channel.buffered = []
                actions.append(.emit(.channelJoined(topic: topic, response: message.payload)))
                for id in waiting { send(id, joinRef: joinRef, channel: &channel, into: &actions) }
                channels[topic] = channel
            } else {
                channel.rejections += 1
                let failure = PhoenixJoinFailure.rejected(status: status, response: message.payload)
                let policy = channel.options.joinErrorPolicy
                if channel.rejections <= policy.maxRetries {
                    let rejoinAt = now.advanced(by: policy.delay(forRetry: channel.rejections))
                    channel.phase = .errored(rejoinAt: rejoinAt)
                    channel.timerSerial = timers.schedule(.channel(topic: topic), at: rejoinAt)
                    channels[topic] = channel
                    actions.append(.emit(.channelJoinFailed(topic: topic, failure: failure, retryAt: rejoinAt)))
                } else {
                    actions.append(.emit(.channelJoinFailed(topic: topic, failure: failure, retryAt: nil)))
                    removeChannel(topic, pushResult: .cancelled(.joinFailed), into: &actions)
                }
            }
        case .leave(let topic):
            guard message.topic == topic else { return dropMessage() }
            replyRoutes[ref] = nil
            guard let channel = channels[topic], case .leaving = channel.phase else { return dropMessage() }
            removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
            actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
        case .push(let topic, let id):
            guard message.topic == topic else { return dropMessage() }
            replyRoutes[ref] = nil
            guard pushes[id] != nil else { return dropMessage() }
            updateChannel(topic) { $0.inFlight.remove(id) }
            let result: PhoenixPushResult =
                status == "ok" ? .ok(message.payload) : .error(status: status, response: message.payload)
            complete(id, result, into: &actions)
        }
    }

    private mutating func handleEvent(
        _ message: PhoenixMessage,
        event: String,
        now: PhoenixInstant,
        into actions: inout [PhoenixSocketAction]
    ) {
        let topic = message.topic
        guard var channel = channels[topic], let currentJoinRef = channel.currentJoinRef else {
            return dropMessage()
        }
        let isLifecycle = event == PhoenixEvent.close || event == PhoenixEvent.error
        // v1 servers omit join_ref; their phx_close/phx_error carry the join ref as `ref`.
        let owner = message.joinRef ?? (isLifecycle ? message.ref : nil)
        if let owner, owner != currentJoinRef { return dropMessage() }
        switch event {
        case PhoenixEvent.close:
            if case .leaving = channel.phase {
                removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
                actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
            } else {
                removeChannel(topic, pushResult: .cancelled(.channelClosed), into: &actions)
                actions.append(.emit(.channelClosed(topic: topic, reason: .serverClosed)))
            }
        case PhoenixEvent.error:
            if case .leaving = channel.phase {
                removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
                actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
                return
            }
            if case .joining(let joinRef, _) = channel.phase { replyRoutes[joinRef] = nil }
            for id in channel.inFlight.sorted() {
                if case .inFlight(let ref) = pushes[id]?.stage { replyRoutes[ref] = nil }
                complete(id, .cancelled(.channelErrored), into: &actions)
            }
            channel.inFlight = []
            channel.rejoinAttempt += 1
            let rejoinAt = now.advanced(by: configuration.rejoinDelay(forAttempt: channel.rejoinAttempt))
            channel.phase = .errored(rejoinAt: rejoinAt)
            channel.timerSerial = timers.schedule(.channel(topic: topic), at: rejoinAt)
            channels[topic] = channel
            actions.append(
                .emit(.channelErrored(topic: topic, reason: .serverError(message.payload), rejoinAt: rejoinAt))
            )
        default:
            actions.append(.emit(.message(topic: topic, event: event, payload: message.payload)))
        }
    }

    private mutating func dropMessage() { droppedMessageCount += 1 }

    private mutating func entryFired(
        _ entry: PhoenixTimerQueue.Entry,
        now: PhoenixInstant,
        into actions: inout [PhoenixSocketAction]
    ) {
        switch entry.target {
        case .push(let id):
            guard let push = pushes[id], push.timerSerial == entry.serial else { return }
            if var channel = channels[push.topic] {
                switch push.stage {
                case .buffered: channel.buffered.removeAll { $0 == id }
                case .inFlight(let ref):
                    channel.inFlight.remove(id)
                    replyRoutes[ref] = nil
                }
                channels[push.topic] = channel
            }
            complete(id, .timeout, into: &actions)
        case .channel(let topic):
            guard var channel = channels[topic], channel.timerSerial == entry.serial else { return }
            channel.timerSerial = nil
            switch channel.phase {
            case .joining(let joinRef, _):
                // Tell the server to drop the join it may still be processing (as phoenix.js does).
                replyRoutes[joinRef] = nil
                let message = PhoenixMessage(
                    joinRef: joinRef,
                    ref: makeRef(),
                    topic: topic,
                    event: PhoenixEvent.leave,
                    payload: .emptyObject
                )
                if let frame = try? configuration.serializer.encode(message) { actions.append(.send(frame)) }
                joinTimedOut(&channel, now: now, into: &actions)
            case .awaitingParams:
                joinTimedOut(&channel, now: now, into: &actions)
            case .errored:
                channels[topic] = channel
                if isOpen {
                    startJoin(topic, now: now, into: &actions)
                } else {
                    channels[topic]?.phase = .waitingForSocket
                }
            case .leaving(_, let leaveRef, _):
                replyRoutes[leaveRef] = nil
                channels[topic] = channel
                removeChannel(topic, pushResult: .cancelled(.left), into: &actions)
                actions.append(.emit(.channelClosed(topic: topic, reason: .left)))
            case .waitingForSocket, .joined:
                channels[topic] = channel
            }
        }
    }

    private mutating func joinTimedOut(
        _ channel: inout PhoenixChannelRecord,
        now: PhoenixInstant,
        into actions: inout [PhoenixSocketAction]
    ) {
        channel.rejoinAttempt += 1
        let rejoinAt = now.advanced(by: configuration.rejoinDelay(forAttempt: channel.rejoinAttempt))
        channel.phase = .errored(rejoinAt: rejoinAt)
        channel.timerSerial = timers.schedule(.channel(topic: channel.topic), at: rejoinAt)
        channels[channel.topic] = channel
        actions.append(.emit(.channelJoinFailed(topic: channel.topic, failure: .timedOut, retryAt: rejoinAt)))
    }

    /// Removes a channel, completing every push it still holds with `pushResult`.
    private mutating func removeChannel(
        _ topic: String,
        pushResult: PhoenixPushResult,
        into actions: inout [PhoenixSocketAction]
    ) {
        guard let channel = channels.removeValue(forKey: topic) else { return }
        for id in channel.inFlight.sorted() + channel.buffered {
            if case .inFlight(let ref) = pushes[id]?.stage { replyRoutes[ref] = nil }
            complete(id, pushResult, into: &actions)
        }
        switch channel.phase {
        case .joining(let joinRef, _): replyRoutes[joinRef] = nil
        case .leaving(_, let leaveRef, _): replyRoutes[leaveRef] = nil
        case .waitingForSocket, .awaitingParams, .joined, .errored: break
        }
    }

    /// Completes a push: the only place a `completePush` for a recorded push is made, and it
    /// forgets the push, so a second completion cannot happen.
    private mutating func complete(
        _ id: PhoenixPushID,
        _ result: PhoenixPushResult,
        into actions: inout [PhoenixSocketAction]
    ) {
        guard pushes.removeValue(forKey: id) != nil else { return }
        actions.append(.completePush(id, result))
    }

    /// Changes the record of `topic`, if any, in place. (`channels[topic]?.x = …` goes through
    /// the dictionary's nested modify accessors, whose frames are too big for this record: three
    /// allocations a call.)
    private mutating func updateChannel(_ topic: String, _ change: (inout PhoenixChannelRecord) -> Void) {
        guard var channel = channels.removeValue(forKey: topic) else { return }
        change(&channel)
        channels[topic] = channel
    }

    /// Drops stale entries from the top of the timer queue so `nextDeadline` is exact.
    private mutating func prune() {
        while let entry = timers.first {
            let live: Bool
            switch entry.target {
            case .push(let id): live = pushes[id]?.timerSerial == entry.serial
            case .channel(let topic): live = channels[topic]?.timerSerial == entry.serial
            }
            if live { return }
            _ = timers.popFirst()
        }
    }
}
