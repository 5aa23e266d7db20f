import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportLWS

/// The experimental raw-socket framing (`LWSTransport.Framing.experimentalRawSocket`): the
/// conformance suite, and the two behaviours libwebsockets' own client gets wrong, fixed.
enum LWSRawSocketServer {
    static func target() async throws -> ConformanceTarget {
        try await LWSConformanceServer.shared.value.target(
            name: "LWSTransport(raw socket)", transport: LWSTransport(framing: .experimentalRawSocket))
    }
}

@Test(
    "LWSTransport on a raw socket passes the transport conformance suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.scenarios(for: .all)
)
func lwsRawSocketTransportConforms(_ scenario: ConformanceScenario) async throws {
    try await scenario.run(on: await LWSRawSocketServer.target())
}

@Suite("LWSTransport on a raw socket: what libwebsockets' client drops", .timeLimit(.minutes(1)))
struct LWSRawSocketFixedBehaviourTests {
    @Test("ten pings read at once: ten pongs, in order, then the text frame")
    func pingBurstGetsEveryPongInOrder() async throws {
        let report = try await pingBurstReport(on: try await LWSRawSocketServer.target(), count: 10)
        #expect(report["pongs"] as? [String] == (0..<10).map { "ping-\($0)" })
        #expect(report["close_code"] as? Int == 1000)
    }

    @Test("a server close with 1012, 1013 or 1014 arrives as itself and is echoed", arguments: [1012, 1013, 1014])
    func registeredCloseCodesArriveAsSent(code: Int) async throws {
        let target = try await LWSRawSocketServer.target()
        let id = UUID().uuidString
        let request = WebSocketRequest(url: target.url(.raw, "/invalid-close-code?code=\(code)&id=\(id)"))
        let received = try await target.transport.withConnection(to: request) { connection in
            var all: [WebSocketMessage] = []
            for try await message in connection.inbound { all.append(message) }
            return all
        }
        #expect(received.count == 1)
        guard case .close(let closeCode, _) = received.first else {
            Issue.record("expected a close, got \(received)")
            return
        }
        #expect(closeCode?.rawValue == UInt16(code))
        let report = try await rawServerReport(target, of: id)
        #expect(report["close_code"] as? Int == code, "the client's answer to \(code)")
    }

    @Test("wss:// is refused on the raw-socket path with a typed error, before connecting")
    func secureSchemeIsRefused() async throws {
        let transport = LWSTransport(framing: .experimentalRawSocket)
        let request = WebSocketRequest(url: try #require(URL(string: "wss://127.0.0.1:1/")))
        let error = await #expect(throws: TransportError.self) {
            try await transport.withConnection(to: request) { _ in }
        }
        #expect(error?.code == .unsupportedScheme)
    }
}
