import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportLWS

/// The shared Python loopback server of the conformance suites (with its TLS listeners),
/// started once per process.
enum LWSConformanceServer {
    static let shared = Task { try await LoopbackTestServer.startWithTLS(packageRoot: TestServer.repositoryRoot) }

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

@Test(
    "LWSTransport passes the transport conformance suite over wss://",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.scenarios(for: .all)
)
func lwsTransportConformsOverTLS(_ scenario: ConformanceScenario) async throws {
    try await scenario.run(
        on: LWSConformanceServer.shared.value.tlsTarget(name: "LWSTransport", transport: LWSTransport()))
}

@Test(
    "LWSTransport passes the TLS suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.tlsScenarios
)
func lwsTransportPassesTheTLSSuite(_ scenario: TLSConformanceScenario) async throws {
    try await scenario.run(
        on: LWSConformanceServer.shared.value.tlsSuiteTarget(name: "LWSTransport", transport: LWSTransport()))
}
