import NIOCore
import NIOPosix

/// The relay behind `FaultProxy`: the listener, each accepted connection paired with its
/// upstream connection, and the faults in force.
///
/// Confined to `loop`: the channels' handlers, their futures and the proxy's controls (through
/// `submit`) all run there, so its state needs no lock. That confinement is what makes the
/// `@unchecked Sendable` sound.
final class FaultProxyEngine: @unchecked Sendable {
    typealias Direction = FaultProxy.Direction

    /// One accepted connection and its upstream connection.
    private final class Link {
        let id: Int
        let client: any Channel
        var upstream: (any Channel)?
        var blackHoled: Bool
        /// Closed by the proxy (or its end propagated): nothing more is relayed.
        var isClosed = false
        var queues: [Direction: [Chunk]] = [:]
        var wakeups: [Direction: Scheduled<Void>] = [:]
        /// The directions whose sending side has ended (EOF or error).
        var endedSources: Set<Direction> = []
        var observers: [Direction: FaultProxyFrameObserver] = [
            .clientToServer: FaultProxyFrameObserver(), .serverToClient: FaultProxyFrameObserver(),
        ]

        init(id: Int, client: any Channel, blackHoled: Bool) {
            self.id = id
            self.client = client
            self.blackHoled = blackHoled
        }

        var channels: [any Channel] { [client] + (upstream.map { [$0] } ?? []) }
    }

    /// How much of a cut chunk goes through.
    private struct Cut {
        var keeping: Int?
    }

    /// Bytes waiting to be relayed.
    private struct Chunk {
        var bytes: ByteBuffer
        var arrivedAt: NIODeadline
        /// Relay only its first bytes (nil: half of it, at least one), then close the link.
        var cut: Cut?
    }

    let loop: any EventLoop
    let recorder = FaultProxyRecorder()
    private let host: String
    private var port: Int
    private let upstreamHost: String
    private let upstreamPort: Int

    private var listener: (any Channel)?
    private var binding: EventLoopFuture<Void>?
    private var isShutDown = false
    private var links: [Int: Link] = [:]
    private var acceptedCount = 0

    private var paused: Set<Direction> = []
    private var delays: [Direction: TimeAmount] = [:]
    private var blackHoling = false
    private var armedCut: Cut?

    init(loop: any EventLoop, host: String, port: Int, upstreamHost: String, upstreamPort: Int) {
        self.loop = loop
        self.host = host
        self.port = port
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
    }

    // MARK: Listening

    func startListening() -> EventLoopFuture<Void> {
        loop.assertInEventLoop()
        guard !isShutDown else {
            return loop.makeFailedFuture(FaultProxy.ProxyError(description: "the proxy was shut down"))
        }
        if listener != nil { return loop.makeSucceededVoidFuture() }
        if let binding { return binding }
        let engine = self
        let bound = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // A restart binds the same port while old connections sit in TIME_WAIT.
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FaultProxyRelayHandler(engine: engine, reads: .clientToServer, linkID: nil))
                }
            }
            .bind(host: host, port: port)
            .map { channel in engine.listening(on: channel) }
        bound.whenComplete { _ in engine.binding = nil }
        binding = bound
        return bound
    }

    private func listening(on channel: any Channel) {
        guard !isShutDown else {
            channel.close(promise: nil)
            return
        }
        listener = channel
        port = channel.localAddress?.port ?? port
        recorder.port = port
    }

    func stopListening() -> EventLoopFuture<Void> {
        loop.assertInEventLoop()
        if let binding {
            // A bind in flight: stop once it is done, whatever its outcome.
            let engine = self
            return binding.recover { _ in }.flatMap { engine.stopListening() }
        }
        var closing: [EventLoopFuture<Void>] = []
        if let listener {
            listener.close(promise: nil)
            closing.append(listener.closeFuture)
        }
        listener = nil
        closing += links.values.map { close($0, reset: false) }
        return .andAllComplete(closing, on: loop)
    }

    func shutdown() -> EventLoopFuture<Void> {
        isShutDown = true
        return stopListening()
    }

    // MARK: Controls

    func pause(_ directions: Set<Direction>) {
        paused.formUnion(directions)
    }

    func resume(_ directions: Set<Direction>) {
        paused.subtract(directions)
        for link in links.values.sorted(by: { $0.id < $1.id }) {
            for direction in Direction.allCases where directions.contains(direction) { pump(link, direction) }
        }
    }

    /// Bytes already held are re-timed too: a shorter delay releases them sooner.
    func setDelay(_ delay: TimeAmount, for directions: Set<Direction>) {
        for direction in directions { delays[direction] = delay }
        for link in links.values.sorted(by: { $0.id < $1.id }) {
            for direction in Direction.allCases where directions.contains(direction) {
                link.wakeups.removeValue(forKey: direction)?.cancel()
                pump(link, direction)
            }
        }
    }

    func dropConnections(reset: Bool) -> EventLoopFuture<Void> {
        .andAllComplete(links.values.map { close($0, reset: reset) }, on: loop)
    }

    func armCut(keeping count: Int?) {
        armedCut = Cut(keeping: count)
    }

    func setBlackHoling(_ on: Bool) {
        blackHoling = on
        guard on else { return }
        for link in links.values {
            link.blackHoled = true
            link.queues = [:]
            for wakeup in link.wakeups.values { wakeup.cancel() }
            link.wakeups = [:]
        }
    }

    // MARK: Connections

    /// A client connected; returns its link's id, or nil when the proxy is stopped (the
    /// connection is then closed).
    func accepted(_ client: any Channel) -> Int? {
        guard listener != nil, !isShutDown else {
            client.close(promise: nil)
            return nil
        }
        acceptedCount += 1
        let link = Link(id: acceptedCount, client: client, blackHoled: blackHoling)
        links[link.id] = link
        recorder.update { statistics in
            statistics.connectionsAccepted += 1
            statistics.openConnections += 1
        }
        let engine = self
        let id = link.id
        ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FaultProxyRelayHandler(engine: engine, reads: .serverToClient, linkID: id))
                }
            }
            .connect(host: upstreamHost, port: upstreamPort)
            .whenComplete { result in engine.upstreamConnected(id, result) }
        return id
    }

    private func upstreamConnected(_ id: Int, _ result: Result<any Channel, any Error>) {
        switch result {
        case .success(let channel):
            guard let link = links[id], !link.isClosed else {
                channel.close(promise: nil)
                return
            }
            link.upstream = channel
            if link.endedSources.contains(.clientToServer) && link.queues[.clientToServer, default: []].isEmpty {
                _ = close(link, reset: false)
            } else {
                pump(link, .clientToServer)
            }
        case .failure:
            recorder.update { $0.upstreamConnectFailures += 1 }
            // The server is down: the client sees its connection closed, unless black-holed.
            if let link = links[id], !link.blackHoled { _ = close(link, reset: false) }
        }
    }

    func bytesArrived(_ bytes: ByteBuffer, link id: Int, direction: Direction) {
        guard let link = links[id], !link.isClosed else { return }
        let count = bytes.readableBytes
        let swallowed = link.blackHoled
        let frames = link.observers[direction, default: FaultProxyFrameObserver()].consume(bytes.readableBytesView)
        let observed = frames.map { frame in
            FaultProxy.Frame(
                connection: id, direction: direction, opcode: frame.opcode, isFinal: frame.isFinal,
                payloadLength: frame.payloadLength, payload: frame.payload, swallowed: swallowed)
        }
        recorder.update { statistics in
            switch direction {
            case .clientToServer: statistics.bytesFromClients += count
            case .serverToClient: statistics.bytesFromServer += count
            }
            if swallowed { statistics.bytesSwallowed += count }
            statistics.frames += observed
        }
        guard !swallowed else { return }
        var chunk = Chunk(bytes: bytes, arrivedAt: .now(), cut: nil)
        if direction == .serverToClient, let cut = armedCut {
            armedCut = nil
            chunk.cut = cut
        }
        link.queues[direction, default: []].append(chunk)
        pump(link, direction)
    }

    func sourceEnded(link id: Int, direction: Direction) {
        guard let link = links[id], !link.isClosed else { return }
        link.endedSources.insert(direction)
        if link.blackHoled {
            // A half-open link never tells the client the server went away; but a client that
            // lets go needs nothing kept for it.
            if direction == .clientToServer { _ = close(link, reset: false) }
            return
        }
        if direction == .clientToServer && link.upstream == nil {
            _ = close(link, reset: false)
            return
        }
        pump(link, direction)
    }

    private func wakeUp(_ id: Int, _ direction: Direction) {
        guard let link = links[id] else { return }
        link.wakeups[direction] = nil
        pump(link, direction)
    }

    /// Writes what is due in `direction`, in order; closes the link once a cut chunk is out,
    /// or once the direction's source ended and everything it sent is written.
    private func pump(_ link: Link, _ direction: Direction) {
        guard !link.isClosed, !link.blackHoled, !paused.contains(direction) else { return }
        let destination: (any Channel)? =
            switch direction {
            case .clientToServer: link.upstream
            case .serverToClient: link.client
            }
        guard let destination else { return }
        let engine = self
        let id = link.id
        let now = NIODeadline.now()
        var written = 0
        var lastWrite: EventLoopFuture<Void>?
        defer {
            if written > 0 {
                // Counted first: the flush may complete the writes and close the link at once.
                recordWritten(written, direction)
                destination.flush()
            }
        }
        let delay = delays[direction] ?? .zero
        while let chunk = link.queues[direction]?.first {
            let releaseAt = chunk.arrivedAt + delay
            if releaseAt > now {
                if link.wakeups[direction] == nil {
                    link.wakeups[direction] = loop.scheduleTask(deadline: releaseAt) {
                        engine.wakeUp(id, direction)
                    }
                }
                return
            }
            link.queues[direction]?.removeFirst()
            if let cut = chunk.cut {
                let length = min(max(1, cut.keeping ?? chunk.bytes.readableBytes / 2), chunk.bytes.readableBytes)
                let part = chunk.bytes.getSlice(at: chunk.bytes.readerIndex, length: length) ?? chunk.bytes
                written += part.readableBytes
                link.queues = [:]
                link.blackHoled = true  // nothing more goes through while the cut closes it
                recorder.update { $0.connectionsCut += 1 }
                destination.write(part).whenComplete { _ in engine.closeLink(id) }
                return
            }
            written += chunk.bytes.readableBytes
            lastWrite = destination.write(chunk.bytes)
        }
        guard link.endedSources.contains(direction) else { return }
        // The sender is gone and all it sent is relayed: end the other side too.
        if let lastWrite {
            lastWrite.whenComplete { _ in engine.closeLink(id) }
        } else {
            _ = close(link, reset: false)
        }
    }

    private func recordWritten(_ count: Int, _ direction: Direction) {
        recorder.update { statistics in
            switch direction {
            case .clientToServer: statistics.bytesToServer += count
            case .serverToClient: statistics.bytesToClients += count
            }
        }
    }

    private func closeLink(_ id: Int) {
        if let link = links[id] { _ = close(link, reset: false) }
    }

    /// Closes both sides (with `reset`, by a TCP reset: SO_LINGER 0); completes once both are closed.
    private func close(_ link: Link, reset: Bool) -> EventLoopFuture<Void> {
        let channels = link.channels
        if !link.isClosed {
            link.isClosed = true
            for wakeup in link.wakeups.values { wakeup.cancel() }
            link.wakeups = [:]
            link.queues = [:]
            links[link.id] = nil
            recorder.update { $0.openConnections -= 1 }
            for channel in channels {
                if reset, let provider = channel as? any SocketOptionProvider {
                    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                } else {
                    channel.close(promise: nil)
                }
            }
        }
        return .andAllComplete(channels.map(\.closeFuture), on: loop)
    }
}

/// Hands one side's bytes and end to the engine.
final class FaultProxyRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let engine: FaultProxyEngine
    /// The direction of the bytes this side reads.
    private let reads: FaultProxy.Direction
    private var linkID: Int?

    init(engine: FaultProxyEngine, reads: FaultProxy.Direction, linkID: Int?) {
        self.engine = engine
        self.reads = reads
        self.linkID = linkID
    }

    func channelActive(context: ChannelHandlerContext) {
        if reads == .clientToServer { linkID = engine.accepted(context.channel) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let linkID else { return }
        engine.bytesArrived(unwrapInboundIn(data), link: linkID, direction: reads)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let linkID { engine.sourceEnded(link: linkID, direction: reads) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a read error: this side is gone; `channelInactive` follows.
        context.close(promise: nil)
    }
}
