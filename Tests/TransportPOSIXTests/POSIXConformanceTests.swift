import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportPOSIX

/// The Python loopback server, started once for this test process. It exits by itself when the
/// process ends (its stdin closes).
enum LoopbackServer {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = Result { try LoopbackTestServer(packageRoot: packageRoot) }

    static func target() throws -> ConformanceTarget {
        try shared.get().target(name: "POSIXTransport", transport: POSIXTransport())
    }
}

@Test(
    "POSIXTransport passes the transport conformance suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.scenarios(for: .all)
)
func posixTransportConforms(_ scenario: ConformanceScenario) async throws {
    try await scenario.run(on: LoopbackServer.target())
}
