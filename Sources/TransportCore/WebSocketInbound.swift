/// The inbound messages of one connection: an `AsyncSequence` with a bounded buffer.
///
/// A transport creates it with `makeStream(bufferLimit:)` and feeds it through the
/// `WebSocketInbound.Producer`. When the buffer holds `bufferLimit` messages, `yield` tells the
/// transport to stop reading from the network; the producer's demand handler is called once the
/// consumer has taken messages again. One consumer iterates it; a second iterator would compete
/// for the same elements.
public struct WebSocketInbound: AsyncSequence, Sendable {
    /// Whole messages, in order; the last one is the close, if the closing handshake happened.
    public typealias Element = WebSocketMessage
    /// How the connection was lost without a closing handshake.
    public typealias Failure = TransportError

    private let storage: Storage

    /// A stream and the producer that feeds it.
    public static func makeStream(bufferLimit: Int) -> (stream: WebSocketInbound, producer: Producer) {
        let storage = Storage(limit: Swift.max(1, bufferLimit))
        return (WebSocketInbound(storage: storage), Producer(storage: storage))
    }

    /// The iterator of the one consumer.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(storage: storage) }

    /// Takes the messages out of the buffer, waiting for the next one when it is empty.
    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let storage: Storage

        /// The next message; nil once the sequence ended with a close; throws when the connection was
        /// lost without one.
        public mutating func next() async throws(TransportError) -> WebSocketMessage? {
            try await storage.next(isolation: nil)
        }

        /// The next message, as `next()`, without leaving the caller's actor: a consumer isolated
        /// to an actor waits and resumes on it, so a message costs no hop to another executor.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(TransportError)
            -> WebSocketMessage?
        {
            try await storage.next(isolation: actor)
        }
    }

    /// The transport's side of a `WebSocketInbound`.
    public struct Producer: Sendable {
        fileprivate let storage: Storage

        /// What became of a yielded message.
        public enum YieldResult: Sendable, Equatable {
            /// Buffered; the consumer wants more.
            case enqueued
            /// Buffered, and the buffer is now full: stop reading until the demand handler runs.
            case enqueuedBufferFull
            /// The stream already ended (finished, or its consumer was cancelled): dropped.
            case terminated
        }

        /// Hands one message to the consumer.
        @discardableResult
        public func yield(_ message: WebSocketMessage) -> YieldResult { storage.yield(message) }

        /// Ends the stream: the consumer sees the buffered messages, then the end (or `error`).
        public func finish(throwing error: TransportError? = nil) { storage.finish(error) }

        /// Called (on the consumer's thread) when a full buffer has room again.
        public func setDemandHandler(_ handler: @escaping @Sendable () -> Void) {
            storage.setDemandHandler(handler)
        }

        /// Whether the stream has ended for the consumer (finished, or consumer cancelled).
        public var isTerminated: Bool { storage.isTerminated }
    }
}

extension WebSocketInbound {
    fileprivate final class Storage: Sendable {
        private struct State: ~Copyable {
            var buffer: [WebSocketMessage] = []
            var head = 0
            var waiter: CheckedContinuation<WebSocketMessage?, any Error>?
            var ending: TransportError?? = nil  // .some(nil): finished cleanly; .some(e): failed
            var terminated = false
            var wasFull = false
            var demandHandler: (@Sendable () -> Void)?

            var count: Int { buffer.count - head }

            mutating func popFirst() -> WebSocketMessage? {
                guard head < buffer.count else { return nil }
                let message = buffer[head]
                head += 1
                if head == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 64 && head * 2 >= buffer.count {
                    buffer.removeFirst(head)
                    head = 0
                }
                return message
            }
        }

        private let limit: Int
        private let state: Locked<State>

        init(limit: Int) {
            self.limit = limit
            self.state = Locked(State())
        }

        var isTerminated: Bool { state.withLock { $0.terminated } }

        func setDemandHandler(_ handler: @escaping @Sendable () -> Void) {
            state.withLock { $0.demandHandler = handler }
        }

        func yield(_ message: WebSocketMessage) -> WebSocketInbound.Producer.YieldResult {
            let (waiter, result) = state.withLock {
                state -> (CheckedContinuation<WebSocketMessage?, any Error>?, WebSocketInbound.Producer.YieldResult) in
                if state.terminated || state.ending != nil { return (nil, .terminated) }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return (waiter, .enqueued)
                }
                state.buffer.append(message)
                if state.count >= limit {
                    state.wasFull = true
                    return (nil, .enqueuedBufferFull)
                }
                return (nil, .enqueued)
            }
            waiter?.resume(returning: message)
            return result
        }

        func finish(_ error: TransportError?) {
            let waiter = state.withLock { state -> CheckedContinuation<WebSocketMessage?, any Error>? in
                guard state.ending == nil, !state.terminated else { return nil }
                state.ending = .some(error)
                let waiter = state.waiter
                state.waiter = nil
                if waiter != nil { state.terminated = true }
                return waiter
            }
            if let waiter {
                if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
            }
        }

        func next(isolation actor: isolated (any Actor)?) async throws(TransportError) -> WebSocketMessage? {
            enum Immediate {
                case message(WebSocketMessage, demand: (@Sendable () -> Void)?)
                case end(TransportError?)
                case wait
            }
            let immediate = state.withLock { state -> Immediate in
                if let message = state.popFirst() {
                    var demand: (@Sendable () -> Void)?
                    if state.wasFull && state.count < limit {
                        state.wasFull = false
                        demand = state.demandHandler
                    }
                    return .message(message, demand: demand)
                }
                if state.terminated { return .end(nil) }
                if let ending = state.ending {
                    state.terminated = true
                    return .end(ending)
                }
                return .wait
            }
            switch immediate {
            case .message(let message, let demand):
                demand?()
                return message
            case .end(let error):
                if let error { throw error }
                return nil
            case .wait:
                break
            }
            do {
                return try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let resumeNow = state.withLock { state -> Result<WebSocketMessage?, TransportError>? in
                            if Task.isCancelled {
                                state.terminated = true
                                return .failure(TransportError(.cancelled, "the inbound iteration was cancelled"))
                            }
                            if let message = state.popFirst() { return .success(message) }
                            if let ending = state.ending {
                                state.terminated = true
                                if let error = ending { return .failure(error) }
                                return .success(nil)
                            }
                            state.waiter = continuation
                            return nil
                        }
                        if let resumeNow { continuation.resume(with: resumeNow) }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<WebSocketMessage?, any Error>? in
                        let waiter = state.waiter
                        state.waiter = nil
                        if waiter != nil { state.terminated = true }
                        return waiter
                    }
                    waiter?.resume(throwing: TransportError(.cancelled, "the inbound iteration was cancelled"))
                }
            } catch let error as TransportError {
                throw error
            } catch {
                throw TransportError(.cancelled, "\(error)")
            }
        }
    }
}
