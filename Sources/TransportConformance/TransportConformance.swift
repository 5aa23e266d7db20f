// TransportConformance: one suite of behaviours every `Transport` must show, written once and
// run against each backend (in-memory, POSIX, LWS) and, as a library product, against
// third-party transports from their own tests. Only tests link it.
//
// A test builds a `ConformanceTarget` (a transport, how to reach each server behaviour, what
// the target can play) and runs `TransportConformance.scenarios(for:)`, typically as the
// arguments of one parameterized `@Test`. Scenarios throw `ConformanceFailure` with the
// expected and actual values, so they need no test framework themselves.
//
// Server behaviours are chosen by URL path, the same paths for every target: the Python
// server `Servers/ws_test_server.py` (a resource of this module) serves them over loopback (see
// `LoopbackTestServer`), and an in-memory test plays them in-process.
import Foundation
import TransportCore

/// Which server a scenario talks to.
public enum ConformanceServer: Sendable, Hashable {
    /// A conformant WebSocket server (Python `websockets`) on 127.0.0.1.
    case websockets
    /// The same server on the IPv6 loopback `[::1]`.
    case websocketsIPv6
    /// A hand-written server that can break the protocol on purpose.
    case raw
}

/// What a target can play beyond the basics.
public struct ConformanceCapabilities: OptionSet, Sendable, Hashable {
    /// The capability bits.
    public let rawValue: Int
    /// Capabilities from their bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Broken or unusual wire traffic: invalid UTF-8, bad close codes, mid-frame drops, empty
    /// close frames, handshake and close timeouts, and the transport's own size limits.
    public static let wireLevel = ConformanceCapabilities(rawValue: 1 << 0)
    /// An IPv6 loopback server.
    public static let ipv6 = ConformanceCapabilities(rawValue: 1 << 1)
    /// Real file descriptors, counted in /proc/self/fd.
    public static let fileDescriptors = ConformanceCapabilities(rawValue: 1 << 2)
    /// The connections implement `WebSocketConnection.trySend(_:)`: a message is queued without
    /// suspending when the buffer has room (not the default, which always returns false).
    public static let trySend = ConformanceCapabilities(rawValue: 1 << 3)

    /// Everything: a real transport against the Python loopback server. It includes `.trySend`:
    /// a transport that keeps the default `trySend` runs `.all.subtracting(.trySend)`.
    public static let all: ConformanceCapabilities = [.wireLevel, .ipv6, .fileDescriptors, .trySend]
}

/// A transport under test and the way to reach the server behaviours.
public struct ConformanceTarget: Sendable {
    /// A name for reports.
    public var name: String
    /// The transport under test.
    public var transport: any Transport
    /// What the target can play: scenarios needing more are left out.
    public var capabilities: ConformanceCapabilities
    /// The URL of a behaviour: `pathAndQuery` like `/close?code=4001&reason=bye` on `server`.
    public var url: @Sendable (_ server: ConformanceServer, _ pathAndQuery: String) -> URL
    /// A URL nothing listens on.
    public var refusedURL: URL
    /// The TLS options of every request (for targets whose URLs are wss://).
    public var tls: TLSOptions
    /// How many cycles the connect/close scenario runs (1,000 unless the transport's
    /// connections are too slow to open for the test budget; its test says why).
    public var connectCycles: Int
    /// The largest binary echo (16 MiB; the wss:// runs use less, so that the suites running
    /// in parallel in one process do not hold several 16 MiB echoes at once).
    public var largestEcho: Int

    /// A target; `url` maps a server and a path (with query) to the URL to connect to.
    public init(
        name: String,
        transport: any Transport,
        capabilities: ConformanceCapabilities,
        refusedURL: URL,
        tls: TLSOptions = TLSOptions(),
        connectCycles: Int = 1000,
        largestEcho: Int = 16 << 20,
        url: @escaping @Sendable (_ server: ConformanceServer, _ pathAndQuery: String) -> URL
    ) {
        self.name = name
        self.transport = transport
        self.capabilities = capabilities
        self.refusedURL = refusedURL
        self.tls = tls
        self.connectCycles = connectCycles
        self.largestEcho = largestEcho
        self.url = url
    }
}

/// One behaviour every transport must show.
public struct ConformanceScenario: Sendable, CustomStringConvertible {
    /// What the scenario shows, in words (the test argument's name).
    public let name: String
    /// What the target must be able to play for this scenario to apply.
    public let requirements: ConformanceCapabilities
    let body: @Sendable (ConformanceTarget) async throws -> Void

    /// A scenario named `name`, applicable to targets with `requirements`.
    public init(
        _ name: String,
        requires requirements: ConformanceCapabilities = [],
        _ body: @escaping @Sendable (ConformanceTarget) async throws -> Void
    ) {
        self.name = name
        self.requirements = requirements
        self.body = body
    }

    /// Runs the scenario; throws `ConformanceFailure` (or the transport's error) when the
    /// target does not behave.
    public func run(on target: ConformanceTarget) async throws {
        try await body(target)
    }

    /// The scenario's name.
    public var description: String { name }
}

/// A scenario's expectation that did not hold.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    /// What was expected and what happened.
    public var description: String
    /// A failure described by `description`.
    public init(_ description: String) { self.description = description }
}

/// The suite.
public enum TransportConformance {
    /// The scenarios a target with `capabilities` can run.
    public static func scenarios(for capabilities: ConformanceCapabilities) -> [ConformanceScenario] {
        all.filter { capabilities.isSuperset(of: $0.requirements) }
    }

    /// Every scenario, in a stable order.
    public static var all: [ConformanceScenario] {
        echoScenarios + trySendScenarios + fragmentationScenarios + closeScenarios + handshakeScenarios
            + resourceScenarios
    }
}
