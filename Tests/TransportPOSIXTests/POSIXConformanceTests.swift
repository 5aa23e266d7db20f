import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportPOSIX

/// The Python loopback server (with its TLS listeners), started once for this test process. It
/// exits by itself when the process ends (its stdin closes).
enum LoopbackServer {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = Task { try await LoopbackTestServer.startWithTLS(packageRoot: packageRoot) }

    static func target() async throws -> ConformanceTarget {
        try await shared.value.target(name: "POSIXTransport", transport: POSIXTransport())
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

@Test(
    "POSIXTransport passes the transport conformance suite over wss://",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.scenarios(for: .all)
)
func posixTransportConformsOverTLS(_ scenario: ConformanceScenario) async throws {
    // 100 connect/close cycles here: the TLS suite runs the 1,000 wss:// cycles (with thread and
    // memory checks too).
    try await scenario.run(
        on: LoopbackServer.shared.value.tlsTarget(
            name: "POSIXTransport", transport: POSIXTransport(), connectCycles: 100))
}

@Test(
    "POSIXTransport passes the TLS suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.tlsScenarios.filter { !$0.measuresProcessMemory }
)
func posixTransportPassesTheTLSSuite(_ scenario: TLSConformanceScenario) async throws {
    try await scenario.run(
        on: LoopbackServer.shared.value.tlsSuiteTarget(
            name: "POSIXTransport", transport: POSIXTransport(), resumesSessions: true))
}

/// The TLS scenarios that bound the process's resident memory: `make test` runs this suite in a
/// process of its own, since suites running beside it grow the process too.
@Suite struct TLSProcessMemoryTests {
    @Test(
        "POSIXTransport passes the TLS suite's memory scenarios",
        .timeLimit(.minutes(2)),
        arguments: TransportConformance.tlsScenarios.filter(\.measuresProcessMemory)
    )
    func posixTransportPassesTheTLSMemoryScenarios(_ scenario: TLSConformanceScenario) async throws {
        try await scenario.run(
            on: LoopbackServer.shared.value.tlsSuiteTarget(
                name: "POSIXTransport", transport: POSIXTransport(), resumesSessions: true))
    }
}
