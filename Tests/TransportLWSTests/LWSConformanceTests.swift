import Foundation
import Testing
import TransportConformance
import TransportCore
import TransportLWS

/// The shared Python loopback server of the conformance suites (with its TLS listeners),
/// started once per process.
enum LWSConformanceServer {
    static let shared = Task { try await LoopbackTestServer.startWithTLS(packageRoot: TestServer.repositoryRoot) }

    /// Over wss://, lws 4.1 checks the certificate against the Host header's host, which for an
    /// IPv6 literal keeps its brackets ("[::1]"): the check fails ("hostname mismatch"). The TLS
    /// suite pins that; the IPv6 scenario of the general suite is left out over wss://.
    static let tlsCapabilities: ConformanceCapabilities = [.wireLevel, .fileDescriptors, .trySend]

    /// Each LWSTransport wss:// connection creates its own lws context (OpenSSL global init,
    /// CA file load) one at a time behind LWSTLSGate: ~50 ms each (BENCHMARKS.md, TLS handshake), so 1,000 cycles
    /// would take most of the test budget.
    static let tlsConnectCycles = 100

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
    arguments: TransportConformance.scenarios(for: LWSConformanceServer.tlsCapabilities)
)
func lwsTransportConformsOverTLS(_ scenario: ConformanceScenario) async throws {
    try await scenario.run(
        on: LWSConformanceServer.shared.value.tlsTarget(
            name: "LWSTransport", transport: LWSTransport(), capabilities: LWSConformanceServer.tlsCapabilities,
            connectCycles: LWSConformanceServer.tlsConnectCycles))
}

@Test(
    "LWSTransport passes the TLS suite",
    .timeLimit(.minutes(2)),
    arguments: TransportConformance.tlsScenarios.filter { !$0.measuresProcessMemory }
)
func lwsTransportPassesTheTLSSuite(_ scenario: TLSConformanceScenario) async throws {
    try await scenario.run(
        on: LWSConformanceServer.shared.value.tlsSuiteTarget(
            name: "LWSTransport", transport: LWSTransport(), connectCycles: LWSConformanceServer.tlsConnectCycles,
            verifiesIPv6Literals: false))
}

/// The TLS scenarios that bound the process's resident memory: `make test` runs this suite in a
/// process of its own, since suites running beside it grow the process too.
@Suite struct TLSProcessMemoryTests {
    @Test(
        "LWSTransport passes the TLS suite's memory scenarios",
        .timeLimit(.minutes(2)),
        arguments: TransportConformance.tlsScenarios.filter(\.measuresProcessMemory)
    )
    func lwsTransportPassesTheTLSMemoryScenarios(_ scenario: TLSConformanceScenario) async throws {
        try await scenario.run(
            on: LWSConformanceServer.shared.value.tlsSuiteTarget(
                name: "LWSTransport", transport: LWSTransport(), connectCycles: LWSConformanceServer.tlsConnectCycles,
                verifiesIPv6Literals: false))
    }
}
