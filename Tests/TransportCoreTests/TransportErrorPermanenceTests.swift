import Testing
import TransportCore

/// Which failures a reconnect policy should not retry (`TransportError.isPermanent`).
@Suite struct TransportErrorPermanenceTests {
    @Test func requestErrorsArePermanentByDefault() {
        #expect(TransportError(.invalidRequest, "bad header").isPermanent)
        #expect(TransportError(.unsupportedScheme, "ftp://").isPermanent)
    }

    @Test(arguments: [
        TransportError.Code.resolveFailed, .connectFailed, .connectTimeout, .tls, .handshakeTimeout,
        .handshakeRejected(status: 401), .handshakeRejected(status: 403), .handshakeRejected(status: 503),
        .handshakeInvalid, .protocolViolation, .messageTooBig, .connectionLost, .closed, .closeTimeout, .cancelled,
    ])
    func otherFailuresAreTransientByDefault(code: TransportError.Code) {
        #expect(TransportError(code, "x").isPermanent == false)
    }

    @Test func aTransportMarksAVerificationFailurePermanent() {
        let failure = TransportError(
            .tls, "certificate verification failed: certificate has expired", isPermanent: true)
        #expect(failure.isPermanent)
        #expect(failure != TransportError(.tls, "certificate verification failed: certificate has expired"))
        #expect(TransportError(.invalidRequest, "x", isPermanent: false).isPermanent == false)
    }
}
