import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportLWS

/// Two behaviours of Debian's libwebsockets 4.1.6 that LWSTransport's default framing cannot
/// change without patching the library (the evidence is in `LWSTransport`'s documentation).
/// These tests pin them: if a newer libwebsockets answers every ping or lets 1012-1014 through,
/// they fail, and the documentation and these expectations change together. The experimental
/// raw-socket framing fixes both: `LWSRawSocketFixedBehaviourTests`.
@Suite("libwebsockets 4.1 limits, pinned", .timeLimit(.minutes(1)))
struct LWSLibraryLimitTests {
    /// lws stores one pending pong and drops every ping parsed while it is pending, so of ten
    /// pings read in one go only the first is answered (Autobahn 2.10 and 2.11 fail the same way).
    @Test("ten pings read at once: lws answers only the first")
    func pingBurstGetsOnlyTheFirstPong() async throws {
        let report = try await pingBurstReport(on: try await LWSConformanceServer.target(), count: 10)
        #expect(report["pongs"] as? [String] == ["ping-0"])
        #expect(report["close_code"] as? Int == 1000)
    }

    /// lws 4.1 rewrites 1012-1014 (valid, IANA-registered) to 1002 in its receive buffer
    /// before the close callback, and answers with that buffer: the real code is gone.
    @Test("a server close with 1012, 1013 or 1014 arrives as a protocol violation, answered with 1002")
    func registeredCloseCodesBecomeProtocolErrors() async throws {
        let target = try await LWSConformanceServer.target()
        for code in [1012, 1013, 1014] {
            let id = UUID().uuidString
            let request = WebSocketRequest(url: target.url(.raw, "/invalid-close-code?code=\(code)&id=\(id)"))
            let error = await #expect(throws: TransportError.self, "close code \(code)") {
                try await target.transport.withConnection(to: request) { connection in
                    for try await _ in connection.inbound {}
                }
            }
            #expect(error?.code == .protocolViolation, "close code \(code)")
            let report = try await rawServerReport(target, of: id)
            #expect(report["close_code"] as? Int == 1002, "the client's answer to \(code)")
        }
    }
}
