import PhoenixProtocol
import Testing

/// A transport failure that retrying cannot cure (a certificate that fails verification) ends
/// the reconnect loop, unlike every other failure, unless the policy asks for retries anyway.
/// The reference client (phoenix.js) retries everything; retrying a certificate the client will
/// reject again only hides the reason behind an endless `reconnecting`.
@Suite("Permanent transport failures")
struct PermanentFailureMachineTests {
    static let verification = "certificate verification failed: unable to get local issuer certificate"

    @Test func aPermanentFailureOfTheFirstAttemptSchedulesNoReconnect() {
        var h = MachineHarness()
        #expect(h.connect() == [socketURL])
        #expect(
            h.failedPermanently(Self.verification) == ["socketClosed nil \(Self.verification)", "reconnectAbandoned 0"])
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == nil)
        #expect(h.advance(by: .seconds(60)) == [])
        // `connect` starts over (e.g. once the trust store is fixed).
        #expect(h.connect() == [socketURL])
    }

    @Test func aPermanentFailureWhileReconnectingAfterADropStopsTheReconnects() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join("room:a")
        // The server drops the socket: an ordinary failure, retried on the reference schedule.
        #expect(
            h.failed("connection reset") == [
                "errored room:a connectionLost nil connection reset rejoin onOpen", "socketClosed nil connection reset",
                "reconnect 1 at 10ms",
            ])
        #expect(h.advanceToNextDeadline() == [socketURL])
        #expect(h.failed("connection refused") == ["socketClosed nil connection refused", "reconnect 2 at 60ms"])
        #expect(h.advanceToNextDeadline() == [socketURL])
        // The server comes back with a certificate the client does not trust: no attempt 3.
        #expect(
            h.failedPermanently(Self.verification) == ["socketClosed nil \(Self.verification)", "reconnectAbandoned 2"])
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == nil)
        #expect(h.advance(by: .seconds(60)) == [])
        // The channel waits for the socket, as after any abandoned reconnect; `connect` rejoins it.
        #expect(h.machine.channelState(topic: "room:a") == .waitingForSocket)
        #expect(h.connect() == [socketURL])
        #expect(h.opened() == ["socketOpened", send(#"["2","2","room:a","phx_join",{}]"#)])
    }

    @Test func aPermanentFailureOfAnOpenSocketSchedulesNoReconnect() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join("room:a")
        #expect(
            h.failedPermanently("renegotiation: certificate revoked") == [
                "errored room:a connectionLost nil renegotiation: certificate revoked rejoin onOpen",
                "socketClosed nil renegotiation: certificate revoked",
                "reconnectAbandoned 0",
            ])
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func aPolicyThatRetriesPermanentFailuresRetriesThem() {
        var h = MachineHarness { $0.reconnectPolicy.retriesPermanentFailures = true }
        _ = h.connect()
        #expect(
            h.failedPermanently(Self.verification) == ["socketClosed nil \(Self.verification)", "reconnect 1 at 10ms"])
        #expect(h.advanceToNextDeadline() == [socketURL])
    }

    @Test func theDefaultPolicyDoesNotRetryPermanentFailures() {
        #expect(PhoenixReconnectPolicy.default.retriesPermanentFailures == false)
        #expect(PhoenixReconnectPolicy().retriesPermanentFailures == false)
    }

    @Test func anOrdinaryFailureStillReconnects() {
        var h = MachineHarness()
        _ = h.connect()
        #expect(h.failed("connection refused") == ["socketClosed nil connection refused", "reconnect 1 at 10ms"])
    }
}

extension MachineHarness {
    mutating func failedPermanently(_ description: String) -> [String] {
        render(machine.transportFailed(description, permanent: true, now: now))
    }
}
