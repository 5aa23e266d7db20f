import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportLWS

/// The shared Python loopback server of the conformance suite, started once per process.
enum LWSConformanceServer {
    static let shared = Task { try await offThePool { try LoopbackTestServer(packageRoot: TestServer.repositoryRoot) } }

    static func target() async throws -> ConformanceTarget {
        try await shared.value.target(name: "LWSTransport", transport: LWSTransport())
    }
}

@Test(
    "LWSTransport passes the transport conformance suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.scenarios(for: .all)
)
func lwsTransportConforms(_ scenario: ConformanceScenario) async throws {
    try await scenario.run(on: await LWSConformanceServer.target())
}
