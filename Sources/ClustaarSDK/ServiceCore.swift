import ClustaarModels
import Foundation
import Logging
import PhoenixProtocol
import TransportCore

/// Owns one `PhoenixSocketStateMachine` and runs its actions: opens and closes transport
/// connections, writes frames, arms the one timer the machine asks for, and resumes the callers
/// waiting on `connect`, `join`, `sendReply` and `leave`.
///
/// Every input goes through `run(_:)`, so actions run in the order the machine returned them.
/// Connection callbacks carry the generation of the connection they belong to; those of an older
/// connection are ignored.
actor ServiceCore {
    private let configuration: ClustaarWebChatService.Configuration
    private let transport: any Transport
    private let time: TimeSource
    private let logger: Logger
    private var machine: PhoenixSocketStateMachine

    let states = Broadcast<ConnectionState>()
    let droppedFrames = Broadcast<PhoenixCodingError>()

    // The transport connection.
    private var generation = 0
    private var connectionTask: Task<Void, Never>?
    private var connection: (any WebSocketConnection)?
    private var writer: AsyncStream<WebSocketMessage>.Continuation?
    private var everOpened = false
    private var connectWaiters: [CheckedContinuation<Result<Void, ClustaarError>, Never>] = []
    private var disconnectWaiters: [CheckedContinuation<Void, Never>] = []

    // The machine's timer.
    private var timerTask: Task<Void, Never>?
    private var armedDeadline: PhoenixInstant?

    // Channels and calls in progress.
    private var sinks: [String: ChannelSink] = [:]
    private var paramsProviders: [String: @Sendable () async throws -> PhoenixPayload] = [:]
    private var joinWaiters: [String: [CheckedContinuation<Result<PhoenixPayload, ClustaarError>, Never>]] = [:]
    private var leaveWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var pushWaiters: [PhoenixPushID: CheckedContinuation<PushOutcome, Never>] = [:]

    enum PushOutcome: Sendable {
        case completed(PhoenixPushResult)
        case taskCancelled
    }

    init(
        endpoint: URL,
        transport: any Transport,
        configuration: ClustaarWebChatService.Configuration,
        time: TimeSource
    ) throws(ClustaarError) {
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
                closeTimeout: configuration.timeouts.close)
            machine = PhoenixSocketStateMachine(configuration: socketConfiguration)
        } catch {
            throw .invalidConfiguration("\(error)")
        }
    }

    var isConnected: Bool { machine.state == .open }

    var socketState: PhoenixSocketState { machine.state }

    // MARK: Socket

    func connect() async throws(ClustaarError) {
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

    /// The service is gone: disconnect and end every stream.
    func shutdown() async {
        await disconnect()
        timerTask?.cancel()
        states.finish()
        droppedFrames.finish()
        for sink in sinks.values { sink.end() }
        sinks = [:]
    }

    // MARK: Channels

    func join(
        topic: String,
        params: PhoenixPayload,
        sink: ChannelSink,
        paramsProvider: (@Sendable () async throws -> PhoenixPayload)?
    ) async throws(ClustaarError) -> PhoenixPayload {
        if let existing = sinks[topic], existing !== sink { throw .alreadyJoined(topic: topic) }
        if sinks[topic] === sink, case .joined = machine.channelState(topic: topic) {
            throw .alreadyJoined(topic: topic)
        }
        let actions: [PhoenixSocketAction]
        do {
            var options = machine.configuration.channelDefaults
            options.refreshesParams = paramsProvider != nil
            actions = try machine.join(topic: topic, params: params, options: options, now: time.now())
        } catch {
            throw Self.clustaarError(error)
        }
        sink.reopenIfEnded()
        sinks[topic] = sink
        paramsProviders[topic] = paramsProvider
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                joinWaiters[topic, default: []].append(continuation)
                run(actions)
            }
        } onCancel: {
            Task { await self.abandonJoin(topic: topic) }
        }
        return try result.get()
    }

    func leave(topic: String) async {
        guard sinks[topic] != nil else { return }
        do {
            let actions = try machine.leave(topic: topic, now: time.now())
            await withCheckedContinuation { continuation in
                leaveWaiters[topic, default: []].append(continuation)
                run(actions)
            }
        } catch {
            channelEnded(topic, failingJoinsWith: .cancelled(.left))
        }
    }

    func channelState(topic: String) -> PhoenixChannelState? { machine.channelState(topic: topic) }

    func push(topic: String, event: String, payload: PhoenixPayload) async -> Result<PhoenixPayload, ClustaarError> {
        let id: PhoenixPushID
        let actions: [PhoenixSocketAction]
        do {
            (id, actions) = try machine.push(topic: topic, event: event, payload: payload, now: time.now())
        } catch {
            return .failure(.notJoined)
        }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pushWaiters[id] = continuation
                run(actions)
            }
        } onCancel: {
            Task { await self.abandonPush(id) }
        }
        switch outcome {
        case .taskCancelled: return .failure(.cancelled(.taskCancelled))
        case .completed(let result): return Self.pushResult(result)
        }
    }

    private func abandonPush(_ id: PhoenixPushID) {
        pushWaiters.removeValue(forKey: id)?.resume(returning: .taskCancelled)
    }

    private func abandonJoin(topic: String) {
        guard let waiters = joinWaiters.removeValue(forKey: topic), !waiters.isEmpty else { return }
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
                case .text(let bytes): writer?.yield(.text(bytes))
                case .binary(let bytes): writer?.yield(.binary(bytes))
                }
            case .closeTransport(let code, let reason): closeTransport(code: CloseCode(code), reason: reason)
            case .emit(let event): handle(event)
            case .completePush(let id, let result):
                pushWaiters.removeValue(forKey: id)?.resume(returning: .completed(result))
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
            for waiter in joinWaiters.removeValue(forKey: topic) ?? [] { waiter.resume(returning: .success(response)) }
        case .channelJoinFailed(let topic, let failure, let retryAt):
            let waiting = !(joinWaiters[topic] ?? []).isEmpty
            switch failure {
            case .rejected(_, let response):
                if retryAt == nil {
                    channelEnded(topic, failingJoinsWith: .joinRejected(reason: Self.json(response)))
                }
            case .timedOut:
                // A caller waiting on `join()` is told now, and the channel is left so that nothing
                // keeps retrying behind its back. A rejoin that times out later keeps retrying.
                if waiting || retryAt == nil {
                    let actions = (try? machine.leave(topic: topic, now: time.now())) ?? []
                    channelEnded(topic, failingJoinsWith: .joinTimedOut)
                    run(actions)
                }
            case .unencodable(let error):
                channelEnded(topic, failingJoinsWith: Self.encodingError(error))
            }
        case .channelClosed(let topic, let reason):
            let why: ClustaarError.Interruption =
                switch reason {
                case .left: .left
                case .serverClosed: .channelClosedByServer
                case .disconnected: .disconnected
                }
            channelEnded(topic, failingJoinsWith: .cancelled(why))
        case .channelErrored(let topic, let reason, _):
            logger.notice(
                "channel errored, rejoining", metadata: ["topic": "\(topic)", "reason": "\(Self.logText(reason))"])
        case .message(let topic, let event, let payload):
            sinks[topic]?.deliver(event: event, payload: payload)
        case .decodeFailed(let error):
            logger.warning("undecodable frame dropped", metadata: ["error": "\(error)"])
            droppedFrames.send(error)
        }
    }

    private func channelEnded(_ topic: String, failingJoinsWith error: ClustaarError) {
        for waiter in joinWaiters.removeValue(forKey: topic) ?? [] { waiter.resume(returning: .failure(error)) }
        for waiter in leaveWaiters.removeValue(forKey: topic) ?? [] { waiter.resume() }
        paramsProviders[topic] = nil
        sinks.removeValue(forKey: topic)?.end()
    }

    private func failConnectWaiters(_ error: ClustaarError) {
        let waiters = connectWaiters
        connectWaiters = []
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
    }

    private func requestJoinParams(topic: String) {
        guard let provider = paramsProviders[topic] else {
            run(machine.joinParamsProvided(topic: topic, params: .emptyObject, now: time.now()))
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

    /// One connection's life, off the actor: open it, pump writes and reads, report its end.
    private nonisolated static func runConnection(
        core: ServiceCore,
        transport: any Transport,
        request: WebSocketRequest,
        generation: Int
    ) async {
        do {
            try await transport.withConnection(to: request) { connection in
                let (outbound, writer) = AsyncStream<WebSocketMessage>.makeStream()
                guard await core.connectionOpened(connection, writer: writer, generation: generation) else { return }
                let writing = Task {
                    for await message in outbound {
                        do { try await connection.send(message) } catch { break }
                    }
                }
                defer {
                    writer.finish()
                    writing.cancel()
                }
                var closeFrame: (code: CloseCode?, reason: String)?
                do {
                    for try await message in connection.inbound {
                        switch message {
                        case .text(let bytes): await core.frameReceived(.text(bytes), generation: generation)
                        case .binary(let bytes): await core.frameReceived(.binary(bytes), generation: generation)
                        case .close(let code, let reason): closeFrame = (code, reason)
                        }
                    }
                    await core.connectionEnded(
                        closeCode: closeFrame?.code, closeReason: closeFrame?.reason, failure: nil,
                        generation: generation)
                } catch {
                    await core.connectionEnded(closeCode: nil, closeReason: nil, failure: error, generation: generation)
                }
            }
        } catch {
            await core.connectionEnded(closeCode: nil, closeReason: nil, failure: error, generation: generation)
        }
        await core.connectionTaskFinished(generation: generation)
    }

    private func connectionOpened(
        _ connection: any WebSocketConnection,
        writer: AsyncStream<WebSocketMessage>.Continuation,
        generation: Int
    ) -> Bool {
        guard generation == self.generation else {
            writer.finish()
            return false
        }
        self.connection = connection
        self.writer = writer
        run(machine.transportOpened(now: time.now()))
        return true
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
                run(machine.transportFailed(transportError.reason, now: now))
                run(machine.disconnect(now: now))
                return
            }
            run(machine.transportFailed(transportError.reason, now: now))
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
        writer?.finish()
        writer = nil
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

    private func rearmTimer() {
        let deadline = machine.nextDeadline
        guard deadline != armedDeadline else { return }
        timerTask?.cancel()
        armedDeadline = deadline
        guard let deadline else {
            timerTask = nil
            return
        }
        let time = time
        timerTask = Task {
            do { try await time.sleep(deadline) } catch { return }
            timerFired(deadline: deadline)
        }
    }

    private func timerFired(deadline: PhoenixInstant) {
        guard armedDeadline == deadline else { return }
        armedDeadline = nil
        run(machine.timerFired(now: max(time.now(), deadline)))
    }

    // MARK: Mapping

    static func json(_ payload: PhoenixPayload) -> JSONValue {
        (try? ClustaarJSON.decode(JSONValue.self, from: payload.bytes)) ?? .null
    }

    static func pushResult(_ result: PhoenixPushResult) -> Result<PhoenixPayload, ClustaarError> {
        switch result {
        case .ok(let response): .success(response)
        case .error(let status, let response): .failure(.replyRejected(status: status, response: json(response)))
        case .timeout: .failure(.replyTimedOut)
        case .cancelled(let why):
            switch why {
            case .bufferFull(let limit): .failure(.bufferFull(limit: limit))
            case .connectionLost(let loss): .failure(.outcomeUnknown(interruption(loss)))
            case .channelErrored: .failure(.outcomeUnknown(.channelCrashed))
            case .left: .failure(.cancelled(.left))
            case .disconnected: .failure(.cancelled(.disconnected))
            case .channelClosed: .failure(.cancelled(.channelClosedByServer))
            case .joinFailed: .failure(.notJoined)
            case .unencodable(let error): .failure(encodingError(error))
            }
        }
    }

    static func clustaarError(_ error: PhoenixSocketError) -> ClustaarError {
        switch error {
        case .alreadyJoined(let topic): .alreadyJoined(topic: topic)
        case .unknownTopic, .channelLeaving: .notJoined
        case .invalidEndpoint(let endpoint):
            .invalidConfiguration("the endpoint \(endpoint) is not a ws, wss, http or https URL with a host")
        case .reservedTopic(let topic): .invalidConfiguration("the topic \(topic) is reserved for the socket")
        case .unencodable(let error): encodingError(error)
        }
    }

    static func interruption(_ loss: PhoenixConnectionLoss) -> ClustaarError.Interruption {
        switch loss {
        case .closed(let code, let reason): .connectionLost(code: code.map(CloseCode.init(rawValue:)), reason: reason)
        case .heartbeatTimedOut: .heartbeatTimedOut
        }
    }

    static func encodingError(_ error: PhoenixCodingError) -> ClustaarError {
        switch error {
        case .unencodable: .encoding("\(error)")
        default: .encoding("cannot encode: \(error)")
        }
    }

    /// Why a channel errored, for a log line: the server's payload as JSON text, the close code
    /// by number and name.
    static func logText(_ reason: PhoenixChannelErrorReason) -> String {
        switch reason {
        case .serverError(let payload): "the server's channel crashed: \(payload.logText())"
        case .connectionLost(let loss): interruption(loss).description
        }
    }
}
