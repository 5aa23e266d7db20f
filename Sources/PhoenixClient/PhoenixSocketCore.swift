import Foundation
import Logging
import PhoenixProtocol
import Synchronization
import TransportCore

/// Owns one `PhoenixSocketStateMachine` and runs its actions: opens and closes transport
/// connections, writes frames, arms the one timer the machine asks for, delivers channel events,
/// and resumes the callers waiting on `connect`, `join`, `push` and `leave`.
///
/// Every input goes through `run(_:)`, so actions run in the order the machine returned them.
/// Connection callbacks carry the generation of the connection they belong to; those of an older
/// connection are ignored. Channel events are delivered here, on the actor, straight into each
/// channel's outlet: no task or stream sits between a frame and its channel.
///
/// Hand-offs per message are kept few: inbound frames are read by a loop isolated to this actor
/// (the transport's continuation resumes it here, with no hop per frame), and outbound frames go
/// straight into the connection's buffer (`trySend`) unless it is full or frames already wait in
/// the writer task, which then takes them in order.
actor PhoenixSocketCore {
    private let configuration: PhoenixSocket.Configuration
    private let transport: any Transport
    private let time: TimeSource
    private let logger: Logger
    private var machine: PhoenixSocketStateMachine

    let states = Broadcast<PhoenixConnectionState>()
    let droppedFrames = Broadcast<PhoenixCodingError>()

    // The transport connection.
    private var generation = 0
    private var connectionTask: Task<Void, Never>?
    private var connection: (any WebSocketConnection)?
    private var outbound: Outbound?
    private var everOpened = false
    private var connectWaiters: [CheckedContinuation<Result<Void, PhoenixClientError>, Never>] = []
    private var disconnectWaiters: [CheckedContinuation<Void, Never>] = []

    // The machine's timer.
    private var timerTask: Task<Void, Never>?
    private var armedDeadline: PhoenixInstant?
    /// Tells the armed timer's task from one cancelled after its sleep ended.
    private var timerSerial: UInt64 = 0

    // Channels and calls in progress.
    private var members: [String: Member] = [:]
    private var pushWaiters: [PhoenixPushID: PushWaiter] = [:]

    private struct PushWaiter {
        let continuation: CheckedContinuation<PushOutcome, Never>
        /// The channel and event, when the channel's observer follows replies.
        let observed: (outlet: PhoenixChannelOutlet, event: String)?
    }

    /// The channel object that holds a topic, and its calls in progress.
    private struct Member {
        let outlet: PhoenixChannelOutlet
        var params: PhoenixPayload
        let paramsProvider: (@Sendable () async throws -> PhoenixPayload)?
        var joinWaiters: [CheckedContinuation<Result<PhoenixPayload, PhoenixClientError>, Never>] = []
        var leaveWaiters: [CheckedContinuation<Void, Never>] = []
        /// Whether a join succeeded in this life: every later one is a rejoin.
        var joinedBefore = false
        /// Set when the channel ends for a reason the machine does not know (replaced).
        var closeCause: PhoenixChannelCloseCause?
    }

    /// Where the frames for the current connection go.
    private struct Outbound {
        let connection: any WebSocketConnection
        /// The writer task's queue: frames the connection had no room for, and every frame
        /// behind them.
        let queue: AsyncStream<WebSocketMessage>.Continuation
        let backlog: WriterBacklog
        /// A write failed (the connection is closing, or refused a frame): as the writer task
        /// stops at its first failed `send`, this connection takes no more frames.
        var stopped = false
    }

    enum PushOutcome: Sendable {
        case completed(PhoenixPushResult)
        case taskCancelled
    }

    init(
        endpoint: URL,
        transport: any Transport,
        configuration: PhoenixSocket.Configuration,
        time: TimeSource
    ) throws(PhoenixClientError) {
        self.configuration = configuration
        self.transport = transport
        self.time = time
        self.logger = configuration.logger
        do {
            let socketConfiguration = try PhoenixSocketConfiguration(
                endpoint: endpoint.absoluteString,
                params: configuration.params,
                authToken: configuration.authToken,
                serializer: configuration.serializer,
                heartbeatInterval: configuration.heartbeatInterval,
                pushTimeout: configuration.pushTimeout,
                channelDefaults: PhoenixChannelOptions(
                    joinTimeout: configuration.joinTimeout,
                    pushBufferLimit: configuration.pushBufferLimit,
                    joinErrorPolicy: configuration.joinErrorPolicy),
                reconnectPolicy: configuration.reconnectPolicy,
                rejoinDelays: configuration.rejoinDelays,
                closeTimeout: configuration.timeouts.close,
                // The transports refuse a message over this; the machine fails such a push
                // itself, so the frames behind it still go.
                maxOutboundFrameSize: configuration.limits.maxMessageSize)
            machine = PhoenixSocketStateMachine(configuration: socketConfiguration)
        } catch {
            throw Self.clientError(error)
        }
    }

    var isConnected: Bool { machine.state == .open }

    /// Pushes not completed yet (buffered or in flight).
    var pendingPushCount: Int { machine.pendingPushCount }

    func channelState(_ outlet: PhoenixChannelOutlet, topic: String) -> PhoenixChannelState? {
        members[topic]?.outlet === outlet ? machine.channelState(topic: topic) : nil
    }

    // MARK: Socket

    func connect() async throws(PhoenixClientError) {
        if machine.state == .open { return }
        let result = await withCheckedContinuation { continuation in
            connectWaiters.append(continuation)
            if connectWaiters.count == 1 {
                everOpened = false
                run(machine.connect(now: time.now()))
            }
        }
        try result.get()
    }

    func reconnectNow() {
        run(machine.reconnectNow(now: time.now()))
    }

    func disconnect() async {
        run(machine.disconnect(now: time.now()))
        failConnectWaiters(.cancelled(.disconnected))
        guard connectionTask != nil else { return }
        await withCheckedContinuation { disconnectWaiters.append($0) }
    }

    /// The socket is gone: disconnect and end every stream.
    func shutdown() async {
        await disconnect()
        timerTask?.cancel()
        states.finish()
        droppedFrames.finish()
        for topic in Array(members.keys) {
            channelEnded(topic, cause: .disconnected, failingJoinsWith: .cancelled(.disconnected))
        }
    }

    // MARK: Channels

    func join(
        _ outlet: PhoenixChannelOutlet,
        topic: String,
        params: PhoenixPayload,
        paramsProvider: (@Sendable () async throws -> PhoenixPayload)?
    ) async throws(PhoenixClientError) -> PhoenixPayload {
        if let existing = members[topic] {
            guard existing.outlet !== outlet, configuration.duplicateJoins == .replace else {
                throw .alreadyJoined(topic: topic)
            }
            // As phoenix.js: the other channel object leaves, then this one joins.
            logger.debug("leaving a duplicate join", metadata: ["topic": "\(topic)"])
            members[topic]?.closeCause = .replaced
            await leave(existing.outlet, topic: topic)
            if members[topic] != nil { throw .alreadyJoined(topic: topic) }
        }
        let actions: [PhoenixSocketAction]
        do {
            var options = machine.configuration.channelDefaults
            options.refreshesParams = paramsProvider != nil
            actions = try machine.join(topic: topic, params: params, options: options, now: time.now())
        } catch {
            throw Self.clientError(error)
        }
        outlet.reopenIfEnded()
        members[topic] = Member(outlet: outlet, params: params, paramsProvider: paramsProvider)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                members[topic]?.joinWaiters.append(continuation)
                run(actions)
            }
        } onCancel: {
            Task { await self.abandonJoin(outlet, topic: topic) }
        }
        return try result.get()
    }

    func leave(_ outlet: PhoenixChannelOutlet, topic: String) async {
        guard members[topic]?.outlet === outlet else { return }
        do {
            let actions = try machine.leave(topic: topic, now: time.now())
            await withCheckedContinuation { continuation in
                members[topic]?.leaveWaiters.append(continuation)
                run(actions)  // without a socket, the channel closes (and this resumes) in here
            }
        } catch {
            channelEnded(topic, cause: .left, failingJoinsWith: .cancelled(.left))
        }
    }

    func isJoined(_ outlet: PhoenixChannelOutlet, topic: String) -> Bool {
        guard members[topic]?.outlet === outlet, case .joined = machine.channelState(topic: topic) else { return false }
        return true
    }

    func push(
        _ outlet: PhoenixChannelOutlet,
        topic: String,
        event: String,
        payload: PhoenixPayload,
        timeout: Duration?
    ) async -> Result<PhoenixPayload, PhoenixClientError> {
        /// A push refused before it is sent: its caller and the observer are told.
        func refused(_ error: PhoenixClientError) -> Result<PhoenixPayload, PhoenixClientError> {
            outlet.observer?.channel(event, replied: .failure(error))
            return .failure(error)
        }
        guard members[topic]?.outlet === outlet else { return refused(.notJoined) }
        if case .binary = payload, configuration.serializer == .jsonV1 {
            // A v1 server reads text frames only: nothing would reach the channel.
            return refused(.unencodable("binary payloads need the JSON v2 serializer (JSON v1 has no binary frames)"))
        }
        let id: PhoenixPushID
        let actions: [PhoenixSocketAction]
        do {
            (id, actions) = try machine.push(
                topic: topic, event: event, payload: payload, timeout: timeout, now: time.now())
        } catch {
            return refused(.notJoined)
        }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pushWaiters[id] = PushWaiter(
                    continuation: continuation, observed: outlet.observer == nil ? nil : (outlet, event))
                run(actions)
            }
        } onCancel: {
            Task { await self.abandonPush(id) }
        }
        switch outcome {
        case .taskCancelled: return .failure(.cancelled(.taskCancelled))
        case .completed(let result): return pushResult(result)
        }
    }

    private func abandonPush(_ id: PhoenixPushID) {
        pushWaiters.removeValue(forKey: id)?.continuation.resume(returning: .taskCancelled)
    }

    private func abandonJoin(_ outlet: PhoenixChannelOutlet, topic: String) {
        guard members[topic]?.outlet === outlet, let waiters = members[topic]?.joinWaiters, !waiters.isEmpty else {
            return
        }
        members[topic]?.joinWaiters = []
        for waiter in waiters { waiter.resume(returning: .failure(.cancelled(.taskCancelled))) }
        if let actions = try? machine.leave(topic: topic, now: time.now()) { run(actions) }
    }

    // MARK: Running the machine's actions

    private func run(_ actions: [PhoenixSocketAction]) {
        for action in actions {
            switch action {
            case .openTransport(let url, let subprotocols): openTransport(url: url, subprotocols: subprotocols)
            case .send(let frame):
                switch frame {
                case .text(let bytes): write(.text(bytes))
                case .binary(let bytes): write(.binary(bytes))
                }
            case .closeTransport(let code, let reason): closeTransport(code: CloseCode(code), reason: reason)
            case .emit(let event): handle(event)
            case .completePush(let id, let result):
                guard let waiter = pushWaiters.removeValue(forKey: id) else { break }
                if let (outlet, event) = waiter.observed {
                    outlet.observer?.channel(event, replied: pushResult(result))
                }
                waiter.continuation.resume(returning: .completed(result))
            case .requestJoinParams(let topic): requestJoinParams(topic: topic)
            }
        }
        rearmTimer()
    }

    private func handle(_ event: PhoenixSocketEvent) {
        switch event {
        case .socketOpened:
            everOpened = true
            states.send(.open)
            let waiters = connectWaiters
            connectWaiters = []
            for waiter in waiters { waiter.resume(returning: .success(())) }
        case .socketClosed(let code, let reason):
            // Still attached: the machine stopped waiting for a close the transport never
            // confirmed. That connection is over; its late end must not be reported again.
            if connection != nil { detachConnection() }
            // Routine (every disconnect): debug. An unexpected drop also shows in the notice of
            // each errored channel, with the same code.
            logger.debug(
                "connection closed",
                metadata: ["code": "\(code.map { CloseCode($0).description } ?? "none")", "reason": "\(reason)"])
            states.send(.closed(code: code.map { CloseCode(rawValue: $0) }, reason: reason))
        case .heartbeatTimedOut:
            logger.warning("heartbeat unanswered: reconnecting")
            states.send(.error(TransportError(.connectionLost, "heartbeat timeout")))
        case .reconnectScheduled(let attempt, let at):
            states.send(.reconnecting(attempt: attempt, delay: time.now().duration(to: at)))
        case .reconnectAbandoned(let attempts):
            logger.error("reconnect abandoned after \(attempts) attempts")
            failConnectWaiters(.notConnected)
        case .channelJoined(let topic, let response):
            guard var member = members[topic] else { return }
            let waiters = member.joinWaiters
            member.joinWaiters = []
            let isRejoin = member.joinedBefore
            member.joinedBefore = true
            members[topic] = member
            member.outlet.deliver(.joined(response: response, isRejoin: isRejoin), joinRef: joinRef(of: topic))
            for waiter in waiters { waiter.resume(returning: .success(response)) }
        case .channelJoinFailed(let topic, let failure, let retryAt):
            joinFailed(topic, failure: failure, retryAt: retryAt)
        case .channelClosed(let topic, let reason):
            switch reason {
            case .left: channelEnded(topic, cause: .left, failingJoinsWith: .cancelled(.left))
            case .serverClosed:
                channelEnded(topic, cause: .closedByServer, failingJoinsWith: .cancelled(.closedByServer))
            case .disconnected: channelEnded(topic, cause: .disconnected, failingJoinsWith: .cancelled(.disconnected))
            }
        case .channelErrored(let topic, let reason, _):
            let cause: PhoenixChannelErrorCause =
                switch reason {
                case .connectionLost: .connectionLost
                case .serverError(let payload): .crashed(payload)
                }
            logger.notice(
                "channel errored, rejoining", metadata: ["topic": "\(topic)", "reason": "\(Self.logText(reason))"])
            members[topic]?.outlet.deliver(.errored(cause))
        case .message(let topic, let event, let payload):
            members[topic]?.outlet.deliver(
                .message(PhoenixChannelMessage(event: event, payload: payload)), joinRef: joinRef(of: topic))
        case .decodeFailed(let error):
            logger.warning("undecodable frame dropped", metadata: ["error": "\(error)"])
            droppedFrames.send(error)
        }
    }

    /// The ref of the channel's join sent last, while it is joining or joined (what phoenix.js's
    /// `channel.joinRef()` gives a presence).
    private func joinRef(of topic: String) -> String? {
        switch Self.channelState(topic, in: &machine) {
        case .joining(let joinRef), .joined(let joinRef): joinRef
        default: nil
        }
    }

    private func joinFailed(_ topic: String, failure: PhoenixJoinFailure, retryAt: PhoenixInstant?) {
        guard let member = members[topic] else { return }
        switch failure {
        case .rejected(let status, let response):
            member.outlet.deliver(.rejected(status: status, response: response, willRetry: retryAt != nil))
            if retryAt == nil {
                channelEnded(
                    topic, cause: .joinRejected, failingJoinsWith: .joinRejected(status: status, response: response))
            }
        case .timedOut:
            // A caller waiting on `join()` is told now, and the channel is left so that nothing
            // keeps retrying behind its back. A rejoin that times out later keeps retrying.
            if !member.joinWaiters.isEmpty || retryAt == nil {
                let actions = (try? machine.leave(topic: topic, now: time.now())) ?? []
                channelEnded(topic, cause: .joinTimedOut, failingJoinsWith: .joinTimedOut)
                run(actions)
            } else {
                member.outlet.deliver(.errored(.joinTimedOut))
            }
        case .unencodable(let error):
            channelEnded(topic, cause: .joinUnencodable, failingJoinsWith: .unencodable(Self.unencodableText(error)))
        case .tooLarge(let size, let limit):
            logger.error(
                "join not sent: over the size limit",
                metadata: ["topic": "\(topic)", "size": "\(size)", "limit": "\(limit)"])
            channelEnded(topic, cause: .joinTooLarge, failingJoinsWith: .tooLarge(size: size, limit: limit))
        }
    }

    /// The channel object's life is over: its calls end, then its streams.
    private func channelEnded(
        _ topic: String,
        cause: PhoenixChannelCloseCause,
        failingJoinsWith error: PhoenixClientError
    ) {
        guard let member = members.removeValue(forKey: topic) else { return }
        let cause = member.closeCause ?? cause
        let error: PhoenixClientError = member.closeCause == .replaced ? .cancelled(.replaced) : error
        for waiter in member.joinWaiters { waiter.resume(returning: .failure(error)) }
        for waiter in member.leaveWaiters { waiter.resume() }
        member.outlet.end(cause)
    }

    private func failConnectWaiters(_ error: PhoenixClientError) {
        let waiters = connectWaiters
        connectWaiters = []
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
    }

    private func requestJoinParams(topic: String) {
        guard let member = members[topic] else { return }
        guard let provider = member.paramsProvider else {
            run(machine.joinParamsProvided(topic: topic, params: member.params, now: time.now()))
            return
        }
        // The task runs on this actor; only the provider's own work happens elsewhere.
        Task {
            do {
                let params = try await provider()
                joinParamsReady(topic: topic, params: params)
            } catch {
                // The join timeout reports it; the provider's error is only logged.
                logParamsFailure(topic: topic, error: error)
            }
        }
    }

    private func joinParamsReady(topic: String, params: PhoenixPayload) {
        members[topic]?.params = params
        run(machine.joinParamsProvided(topic: topic, params: params, now: time.now()))
    }

    private func logParamsFailure(topic: String, error: any Error) {
        logger.warning("join params provider failed", metadata: ["topic": "\(topic)", "error": "\(error)"])
    }

    // MARK: The transport connection

    private func openTransport(url: URL, subprotocols: [String]) {
        generation += 1
        let current = generation
        states.send(.connecting)
        let request = WebSocketRequest(
            url: url, headers: configuration.headers, subprotocols: subprotocols, limits: configuration.limits,
            timeouts: configuration.timeouts, tls: configuration.tls)
        let transport = transport
        connectionTask = Task {
            await Self.runConnection(core: self, transport: transport, request: request, generation: current)
        }
    }

    /// One connection's life: open it, serve it on the actor, report its end.
    private nonisolated static func runConnection(
        core: PhoenixSocketCore,
        transport: any Transport,
        request: WebSocketRequest,
        generation: Int
    ) async {
        do {
            try await transport.withConnection(to: request) { connection in
                await core.serve(connection, generation: generation)
            }
        } catch {
            await core.connectionEnded(closeCode: nil, closeReason: nil, failure: error, generation: generation)
        }
        await core.connectionTaskFinished(generation: generation)
    }

    /// Attaches the open connection, then reads its frames here, on the actor, until it ends:
    /// the transport resumes this loop on the actor, so a frame costs no hop of its own.
    private func serve(_ connection: any WebSocketConnection, generation: Int) async {
        guard generation == self.generation else { return }
        let (queue, backlog, writing) = Self.startWriter(for: connection, logger: logger)
        defer {
            queue.finish()
            writing.cancel()
        }
        self.connection = connection
        outbound = Outbound(connection: connection, queue: queue, backlog: backlog)
        run(machine.transportOpened(now: time.now()))
        var closeFrame: (code: CloseCode?, reason: String)?
        var inbound = connection.inbound.makeAsyncIterator()
        var framesInARow = 0
        do {
            while let message = try await inbound.next(isolation: self) {
                switch message {
                case .text(let bytes): frameReceived(.text(bytes), generation: generation)
                case .binary(let bytes): frameReceived(.binary(bytes), generation: generation)
                case .close(let code, let reason): closeFrame = (code, reason)
                }
                // `next` returns without suspending while frames are buffered: under a flood,
                // let the callers and the timer waiting for the actor have their turn.
                framesInARow += 1
                if framesInARow == 32 {
                    framesInARow = 0
                    await Task.yield()
                }
            }
            connectionEnded(
                closeCode: closeFrame?.code, closeReason: closeFrame?.reason, failure: nil, generation: generation)
        } catch {
            connectionEnded(closeCode: nil, closeReason: nil, failure: error, generation: generation)
        }
    }

    /// The writer task of one connection, off the actor: it sends, in order, the frames the
    /// actor could not write straight away, and stops at the first failed send.
    private nonisolated static func startWriter(
        for connection: any WebSocketConnection,
        logger: Logger
    ) -> (AsyncStream<WebSocketMessage>.Continuation, WriterBacklog, Task<Void, Never>) {
        let (stream, continuation) = AsyncStream<WebSocketMessage>.makeStream()
        let backlog = WriterBacklog()
        let writing = Task {
            for await message in stream {
                do throws(TransportError) {
                    try await connection.send(message)
                } catch {
                    await writeFailed(error, connection: connection, logger: logger)
                    break
                }
                backlog.remove()
            }
        }
        return (continuation, backlog, writing)
    }

    /// A write failed, and the connection takes no more frames. Closing (`.closed`): its end
    /// comes through the inbound. Anything else (a frame the transport refused, though the
    /// machine checks `maxMessageSize` first: a transport with a lower limit of its own): the
    /// frame cannot be told apart from a heartbeat or a join here, and the frames behind it are
    /// lost, so the connection is closed with the reason, and logged. Its end then completes the
    /// pushes in flight (`outcomeUnknown`) and the socket reconnects, instead of going deaf
    /// until a heartbeat times out.
    private nonisolated static func writeFailed(
        _ error: TransportError,
        connection: any WebSocketConnection,
        logger: Logger
    ) async {
        guard error.code != .closed else { return }
        logger.error("a frame could not be sent: closing the connection", metadata: ["error": "\(error)"])
        await connection.close(code: .internalServerError, reason: "frame not sent: \(error.code.summary)")
    }

    /// Hands a frame to the current connection: straight into its buffer when nothing waits in
    /// the writer task and the buffer has room, otherwise behind the frames in the writer task.
    private func write(_ message: WebSocketMessage) {
        guard let outbound, !outbound.stopped else { return }
        if outbound.backlog.isEmpty {
            do {
                if try outbound.connection.trySend(message) { return }
            } catch {
                // What the writer task does when `send` fails: no more frames for this
                // connection. Its end comes through the inbound.
                self.outbound?.stopped = true
                outbound.queue.finish()
                let logger = logger
                Task { await Self.writeFailed(error, connection: outbound.connection, logger: logger) }
                return
            }
        }
        outbound.backlog.add()
        outbound.queue.yield(message)
    }

    private func frameReceived(_ frame: PhoenixFrame, generation: Int) {
        guard generation == self.generation else { return }
        run(machine.frameReceived(frame, now: time.now()))
    }

    private func connectionEnded(
        closeCode: CloseCode?,
        closeReason: String?,
        failure: (any Error)?,
        generation: Int
    ) {
        guard generation == self.generation else { return }
        detachConnection()
        let now = time.now()
        if let failure {
            let transportError =
                failure as? TransportError ?? TransportError(.connectionLost, "\(failure)")
            states.send(.error(transportError))
            if !everOpened && !connectWaiters.isEmpty {
                // `connect()` reports its own failure instead of retrying behind the caller's back.
                failConnectWaiters(.transport(transportError))
                run(machine.transportFailed(transportError.reason, permanent: transportError.isPermanent, now: now))
                run(machine.disconnect(now: now))
                return
            }
            run(machine.transportFailed(transportError.reason, permanent: transportError.isPermanent, now: now))
        } else {
            run(
                machine.transportClosed(
                    code: closeCode?.rawValue, reason: closeReason ?? "", now: now))
        }
    }

    /// Forgets the current connection: its later callbacks are stale.
    private func detachConnection() {
        generation += 1
        connection = nil
        outbound?.queue.finish()
        outbound = nil
    }

    private func connectionTaskFinished(generation: Int) {
        // Only the newest connection's end releases `disconnect()`.
        guard generation + 1 >= self.generation, connection == nil else { return }
        connectionTask = nil
        let waiters = disconnectWaiters
        disconnectWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func closeTransport(code: CloseCode, reason: String) {
        if let connection {
            Task { await connection.close(code: code, reason: reason) }
        } else {
            // Still connecting: give the attempt up and report the close at once.
            connectionTask?.cancel()
            generation += 1
            let actions = machine.transportClosed(code: code.rawValue, reason: reason, now: time.now())
            run(actions)
            let waiters = disconnectWaiters
            disconnectWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    // MARK: The timer

    /// Arms the timer for the machine's next deadline, unless the armed one comes no later: a
    /// push moves the deadline earlier and its reply moves it back, so re-arming on every move
    /// would cancel and start a task (and a clock timer) once or twice per push. A timer that
    /// fires before the machine's deadline finds nothing due and arms the next one.
    private func rearmTimer() {
        guard let deadline = Self.nextDeadline(of: &machine) else {
            // Nothing to wait for (closed, idle): let go of the task, which holds this actor.
            disarmTimer()
            return
        }
        if let armedDeadline, armedDeadline <= deadline { return }
        disarmTimer()
        // Never later than one join, push or close timeout from now: a join, push or close
        // made meanwhile is due no earlier, so it keeps this timer. A connection's life
        // (connect, join, push, disconnect) arms one timer, not the heartbeat's, the join's and
        // the close's (each a clock timer and a wake-up of its thread); an idle socket's timer
        // wakes once per such timeout rather than once per heartbeat.
        let wake = min(deadline, time.now().advanced(by: shortestTimeout))
        armedDeadline = wake
        timerSerial &+= 1
        let serial = timerSerial
        let time = time
        timerTask = Task {
            do { try await time.sleep(wake) } catch { return }
            timerFired(serial: serial, deadline: wake)
        }
    }

    /// How far ahead the timer is armed at most: the shortest of the join, push and close
    /// timeouts, and never under a second (tiny timeouts would wake an idle socket all the time).
    private var shortestTimeout: Duration {
        max(min(configuration.joinTimeout, configuration.pushTimeout, configuration.timeouts.close), .seconds(1))
    }

    // The machine's getters on the paths of every message, read through `inout`: called on the
    // stored property, a getter of the machine (another module) works on a copy of it, a retain
    // and a release of each of its collections (1.6 us per awaited push in the profile).

    private static func nextDeadline(of machine: inout PhoenixSocketStateMachine) -> PhoenixInstant? {
        machine.nextDeadline
    }

    private static func channelState(
        _ topic: String,
        in machine: inout PhoenixSocketStateMachine
    ) -> PhoenixChannelState? {
        machine.channelState(topic: topic)
    }

    private func disarmTimer() {
        timerTask?.cancel()
        timerTask = nil
        armedDeadline = nil
    }

    private func timerFired(serial: UInt64, deadline: PhoenixInstant) {
        guard armedDeadline != nil, timerSerial == serial else { return }  // cancelled meanwhile
        timerTask = nil
        armedDeadline = nil
        // Early (the deadline it was armed for went away or moved later), the machine finds
        // nothing due; `run` arms the next deadline either way.
        run(machine.timerFired(now: max(time.now(), deadline)))
    }

    // MARK: Mapping

    private func pushResult(_ result: PhoenixPushResult) -> Result<PhoenixPayload, PhoenixClientError> {
        switch result {
        case .ok(let response): .success(response)
        case .error(let status, let response): .failure(.replyRejected(status: status, response: response))
        case .timeout: .failure(.replyTimedOut)
        case .cancelled(let why):
            switch why {
            case .bufferFull(let limit): .failure(.bufferFull(limit: limit))
            case .connectionLost(let loss): .failure(.outcomeUnknown(Self.outcomeCause(loss)))
            case .channelErrored: .failure(.outcomeUnknown(.channelCrashed))
            case .left: .failure(.cancelled(.left))
            case .disconnected: .failure(.cancelled(.disconnected))
            case .channelClosed: .failure(.cancelled(.closedByServer))
            case .joinFailed: .failure(.cancelled(.joinFailed))
            case .unencodable(let error): .failure(.unencodable(Self.unencodableText(error)))
            case .tooLarge(let size, let limit): .failure(.tooLarge(size: size, limit: limit))
            }
        }
    }

    static func unencodableText(_ error: PhoenixCodingError) -> String {
        switch error {
        case .unencodable(let why): why
        default: error.description
        }
    }

    static func clientError(_ error: PhoenixSocketError) -> PhoenixClientError {
        switch error {
        case .alreadyJoined(let topic): .alreadyJoined(topic: topic)
        case .unknownTopic, .channelLeaving: .notJoined
        case .invalidEndpoint(let endpoint):
            .invalidConfiguration("the endpoint \(endpoint) is not a ws, wss, http or https URL with a host")
        case .reservedTopic(let topic): .reservedTopic(topic)
        case .unencodable(let error): .unencodable(unencodableText(error))
        case .tooLarge(let size, let limit): .tooLarge(size: size, limit: limit)
        }
    }

    /// What the client says of a lost connection: the close code with its name, or a heartbeat
    /// that went unanswered.
    static func outcomeCause(_ loss: PhoenixConnectionLoss) -> PhoenixOutcomeUnknownCause {
        switch loss {
        case .closed(let code, let reason): .connectionLost(code: code.map(CloseCode.init(rawValue:)), reason: reason)
        case .heartbeatTimedOut: .heartbeatTimedOut
        }
    }

    /// Why a channel errored, for a log line: the server's payload as JSON text, the close code
    /// by number and name.
    static func logText(_ reason: PhoenixChannelErrorReason) -> String {
        switch reason {
        case .serverError(let payload): "the server's channel crashed: \(payload.logText())"
        case .connectionLost(let loss): outcomeCause(loss).description
        }
    }
}

/// How many frames the writer task holds: handed to it and not yet accepted by the connection.
/// While it is not zero, the actor writes behind them, not straight into the connection.
private final class WriterBacklog: Sendable {
    private let count = Atomic<Int>(0)

    /// No frame waits in the writer task: every frame given to it is in the connection's buffer.
    var isEmpty: Bool { count.load(ordering: .acquiring) == 0 }

    /// A frame was handed to the writer task.
    func add() { count.add(1, ordering: .relaxed) }

    /// The writer task's connection accepted a frame.
    func remove() { count.subtract(1, ordering: .releasing) }
}
