import Testing
import TransportCore

/// `TLSOptions.configurationProblem`: what both transports refuse before opening a socket.
@Suite struct TLSOptionsTests {
    static let certificate = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)

    @Test func theExistingInitializerStillReadsAsBefore() {
        let options = TLSOptions(caFilePath: "/ca.pem", insecureSkipVerification: true)
        #expect(options.caFilePath == "/ca.pem")
        #expect(options.caPEM == nil)
        #expect(options.insecureSkipVerification)
        #expect(options.configurationProblem == nil)
        #expect(TLSOptions().configurationProblem == nil)
    }

    @Test func bytesWithACertificateBlockPass() {
        #expect(TLSOptions(caPEM: Array("a comment\n".utf8) + Self.certificate).configurationProblem == nil)
    }

    @Test(arguments: [
        [UInt8](), Array("not a certificate".utf8), [0x00, 0xFF, 0x2D, 0x2D],
        Array("-----BEGIN CERTIFICATE-----\nMIIB\n".utf8),  // no end line
        Array("-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n".utf8),  // end before begin
        Array("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n".utf8),
    ])
    func bytesWithoutACertificateBlockAreRefused(bytes: [UInt8]) {
        #expect(TLSOptions(caPEM: bytes).configurationProblem == "the CA PEM data holds no certificate")
    }

    @Test func aFileAndBytesTogetherAreRefused() {
        #expect(
            TLSOptions(caFilePath: "/ca.pem", caPEM: Self.certificate).configurationProblem
                == "TLSOptions gives both caFilePath and caPEM: give one")
    }
}
