import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// A transport failure marked permanent (a certificate that fails verification) is reported,
/// never retried by the default policy: `connect()` throws it, and the states show no
/// `reconnecting` after it. (LWSTransport against a real TLS server: TransportLWSTests'
/// `LWSServiceTLSTests`.)
@Suite struct PermanentFailureTests {
    static let certificateFailure = TransportError(
        .tls, "certificate verification failed: unable to get local issuer certificate (X509 error 20)",
        isPermanent: true)

    /// Every state until the stream ends (the service's deinit ends it).
    static func rest(_ states: inout AsyncStream<ConnectionState>.Iterator) async -> [ConnectionState] {
        var seen: [ConnectionState] = []
        while let state = await states.next() { seen.append(state) }
        return seen
    }

    /// Connects `service` through `transport`, then drops the connection: a drop is an ordinary
    /// failure, so `states` reads up to the first reconnect's `.connecting`, after the reference
    /// schedule's 10 ms. (`service` is the test's own, which ends it later.)
    static func connectThenDrop(
        _ service: ClustaarWebChatService?,
        transport: InMemoryTransport,
        clock: ManualClock,
        states: inout AsyncStream<ConnectionState>.Iterator
    ) async throws {
        let accepting = Task {
            let connection = await transport.nextConnection()
            connection?.accept()
            return connection
        }
        try await service?.connect()
        let first = await accepting.value
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        first?.drop(reason: "connection reset")
        #expect(await states.next() == .error(TransportError(.connectionLost, "connection reset")))
        #expect(await states.next() == .closed(code: nil, reason: "connection reset"))
        #expect(await states.next() == .reconnecting(attempt: 1, delay: .milliseconds(10)))
        clock.advance(by: .milliseconds(10))
        #expect(await states.next() == .connecting)
    }

    @Test func aPermanentFailureOfTheFirstConnectThrowsAndIsNotRetried() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let clock = ManualClock()
        // Optional, so that the test can end it: its deinit ends `connectionStates`.
        var service: ClustaarWebChatService? = try ClustaarWebChatService(
            environment: URL(string: "wss://localhost:1/socket")!, transport: transport, clock: clock)
        var states = try #require(service?.connectionStates).makeAsyncIterator()
        let refusing = Task { await transport.nextConnection()?.reject(Self.certificateFailure) }
        await #expect(throws: ClustaarError.transport(Self.certificateFailure)) { try await service?.connect() }
        await refusing.value
        clock.advance(by: .seconds(60))
        service = nil
        #expect(
            await Self.rest(&states) == [
                .connecting, .error(Self.certificateFailure),
                .closed(code: nil, reason: Self.certificateFailure.reason),
            ])
        #expect(transport.requests.count == 1)
    }

    @Test func aPermanentFailureWhileReconnectingAfterADropStopsTheReconnects() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let clock = ManualClock()
        // Optional, so that the test can end it: its deinit ends `connectionStates`.
        var service: ClustaarWebChatService? = try ClustaarWebChatService(
            environment: URL(string: "wss://localhost:1/socket")!, transport: transport, clock: clock)
        var states = try #require(service?.connectionStates).makeAsyncIterator()
        try await Self.connectThenDrop(service, transport: transport, clock: clock, states: &states)

        // The server now presents a certificate the client does not trust: reported, not retried.
        await transport.nextConnection()?.reject(Self.certificateFailure)
        #expect(await states.next() == .error(Self.certificateFailure))
        #expect(await states.next() == .closed(code: nil, reason: Self.certificateFailure.reason))
        clock.advance(by: .seconds(60))
        #expect(await service?.isConnected == false)
        service = nil
        #expect(await Self.rest(&states) == [])
        #expect(transport.requests.count == 2)
    }

    @Test func anOrdinaryFailureOfAReconnectIsRetried() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let clock = ManualClock()
        // Optional, so that the test can end it: its deinit ends `connectionStates`.
        var service: ClustaarWebChatService? = try ClustaarWebChatService(
            environment: URL(string: "wss://localhost:1/socket")!, transport: transport, clock: clock)
        var states = try #require(service?.connectionStates).makeAsyncIterator()
        try await Self.connectThenDrop(service, transport: transport, clock: clock, states: &states)
        // A TLS failure that is not a verification failure (the peer hung up mid-handshake).
        let eof = TransportError(.tls, "connect SSL err 5: unexpected eof")
        #expect(eof.isPermanent == false)
        await transport.nextConnection()?.reject(eof)
        #expect(await states.next() == .error(eof))
        #expect(await states.next() == .closed(code: nil, reason: eof.reason))
        #expect(await states.next() == .reconnecting(attempt: 2, delay: .milliseconds(50)))
        service = nil
    }
}
