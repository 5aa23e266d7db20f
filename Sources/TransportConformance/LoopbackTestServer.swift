import Foundation
import TransportCore

/// The loopback WebSocket server the conformance suite talks to: a Python script shipped with
/// this module (`ws_test_server.py`, a resource) run as a subprocess.
///
/// It needs Python 3 with the [`websockets`](https://pypi.org/project/websockets/) package,
/// version 15 or later (`python3 -m venv .venv && .venv/bin/pip install websockets`). The
/// interpreter is the first of:
/// 1. the `python` argument of ``init(python:certificates:)``;
/// 2. the environment variable `TRANSPORT_CONFORMANCE_PYTHON` (see ``pythonEnvironmentVariable``);
/// 3. `.venv/bin/python` in the current directory (`swift test` runs in the package's root);
/// 4. `python3` on `PATH`.
///
/// When none is found, or the one found lacks `websockets`, the initializer throws a
/// ``LoopbackServerError`` that says which and how to fix it.
///
/// The server prints its ports on one line, and exits when our end of its standard input closes,
/// so it never outlives the test process. Start one per test process and share it:
///
/// ```swift
/// let server = Result { try LoopbackTestServer() }
/// let target = try server.get().target(name: "MyTransport", transport: MyTransport())
/// ```
public final class LoopbackTestServer: Sendable {
    /// The ports the server listens on (all on loopback).
    public struct Ports: Sendable, Hashable, Decodable {
        /// The `websockets` server on 127.0.0.1.
        public var ws: Int
        /// The `websockets` server on ::1.
        public var ws6: Int
        /// The hand-written server on 127.0.0.1.
        public var raw: Int
        /// The TLS listeners, when the server was started with certificates.
        public var tls: TLSPorts?
    }

    /// The TLS listeners (see `ws_test_server.py`, this module's resource).
    public struct TLSPorts: Sendable, Hashable, Decodable {
        /// The WebSocket echo server of `Ports` behind TLS, "valid" certificate, on 127.0.0.1.
        public var wss: Int
        /// The same on `::1`.
        public var wss6: Int
        /// The raw TCP server of `Ports` behind TLS.
        public var raw_tls: Int
        /// A second raw TLS server, for the scenarios that count their own sockets.
        public var raw_tls_close: Int
        /// An echo server whose certificate names another host (for a scenario that counts its sockets).
        public var wss_wronghost: Int
        /// An echo server whose certificate has expired (for a scenario that counts its sockets).
        public var wss_expired: Int
        /// An echo server with a self-signed certificate (for a scenario that counts its sockets).
        public var wss_selfsigned: Int
        /// An echo server with the "valid" certificate (for a scenario that counts its sockets).
        public var wss_valid: Int
        /// `wss_wronghost` again, for the scenarios that do not count sockets.
        public var wss_wronghost_other: Int
        /// `wss_expired` again, for the scenarios that do not count sockets.
        public var wss_expired_other: Int
        /// `wss_selfsigned` again, for the scenarios that do not count sockets.
        public var wss_selfsigned_other: Int
        /// `wss_valid` again, for the scenarios that do not count sockets.
        public var wss_valid_other: Int
        /// A relay to `wss` that writes its byte stream one byte at a time.
        public var tls_bytewise: Int
        /// A relay to `wss` that writes its byte stream in random chunks.
        public var tls_random: Int
        /// A relay to `wss` that resets TCP in the middle of the first big record.
        public var tls_reset: Int
        /// Plain HTTP on a port a client takes for TLS.
        public var plain_http: Int
        /// Accepts and never writes (never answers the ClientHello).
        public var silent: Int
    }

    /// The environment variable that names the Python interpreter to use:
    /// `TRANSPORT_CONFORMANCE_PYTHON`.
    public static let pythonEnvironmentVariable = "TRANSPORT_CONFORMANCE_PYTHON"

    /// Where to reach it.
    public let ports: Ports
    /// The interpreter that runs it.
    public let python: URL
    private let process: Process
    private let stdinPipe: Pipe

    /// The certificates of the TLS listeners, if started with them.
    public let certificates: TLSTestCertificates?

    /// Starts the server with `python`, or with the interpreter found as the type's overview
    /// says when `python` is nil; with `certificates`, its TLS listeners too.
    ///
    /// - Throws: ``LoopbackServerError`` when no interpreter is found, when it lacks
    ///   `websockets`, or when the server exits before printing its ports.
    public convenience init(python: URL? = nil, certificates: TLSTestCertificates? = nil) throws {
        try self.init(
            python: python ?? Self.findPython(environment: ProcessInfo.processInfo.environment),
            script: Self.script(), certificates: certificates)
    }

    /// Starts the server for the package whose root is `packageRoot`: with its
    /// `.venv/bin/python` when there is one, otherwise as ``init(python:certificates:)`` finds one;
    /// with `certificates`, its TLS listeners too.
    ///
    /// - Throws: ``LoopbackServerError``, as ``init(python:certificates:)``.
    public convenience init(packageRoot: URL, certificates: TLSTestCertificates? = nil) throws {
        let venv = packageRoot.appendingPathComponent(".venv/bin/python")
        try self.init(
            python: FileManager.default.isExecutableFile(atPath: venv.path)
                ? venv : Self.findPython(environment: ProcessInfo.processInfo.environment),
            script: Self.script(), certificates: certificates)
    }

    private init(python: URL, script: URL, certificates: TLSTestCertificates?) throws {
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path] + (certificates.map { ["--tls-dir", $0.directory.path] } ?? [])
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        // Standard error stays the test process's own: the server's tracebacks show in the test log.
        do {
            try process.run()
        } catch {
            throw LoopbackServerError.pythonNotStarted(python: python.path, reason: "\(error)")
        }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdoutPipe.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                if process.terminationStatus == Self.missingWebsocketsStatus {
                    throw LoopbackServerError.websocketsMissing(python: python.path)
                }
                throw LoopbackServerError.exitedEarly(status: process.terminationStatus)
            }
            line.append(chunk)
        }
        do {
            ports = try JSONDecoder().decode(Ports.self, from: line)
        } catch {
            try? stdinPipe.fileHandleForWriting.close()
            throw LoopbackServerError.exitedEarly(status: -1)
        }
        self.python = python
        self.process = process
        self.stdinPipe = stdinPipe
        self.certificates = certificates
    }

    /// Makes the test certificates, then starts the server with its TLS listeners, on a thread
    /// of its own (starting Python blocks; the cooperative pool must not wait for it).
    public static func startWithTLS(packageRoot: URL) async throws -> LoopbackTestServer {
        let certificates = try await TLSTestCertificates.shared()
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result { try LoopbackTestServer(packageRoot: packageRoot, certificates: certificates) })
            }.start()
        }
    }

    /// Stops the server and waits for it to exit.
    public func stop() {
        try? stdinPipe.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// A conformance target for `transport` against this server, with every capability
    /// (``ConformanceCapabilities/all``).
    public func target(name: String, transport: any Transport) -> ConformanceTarget {
        let ports = self.ports
        return ConformanceTarget(
            name: name, transport: transport, capabilities: .all,
            refusedURL: URL(string: "ws://127.0.0.1:\(Self.refusedPort())/")!
        ) { server, pathAndQuery in
            switch server {
            case .websockets: URL(string: "ws://127.0.0.1:\(ports.ws)\(pathAndQuery)")!
            case .websocketsIPv6: URL(string: "ws://[::1]:\(ports.ws6)\(pathAndQuery)")!
            case .raw: URL(string: "ws://127.0.0.1:\(ports.raw)\(pathAndQuery)")!
            }
        }
    }

    /// The exit status of the script when `import websockets` fails.
    static let missingWebsocketsStatus: Int32 = 3

    /// The server script, a resource of this module.
    static func script() throws -> URL {
        guard let url = Bundle.module.url(forResource: "ws_test_server", withExtension: "py") else {
            throw LoopbackServerError.scriptMissing
        }
        return url
    }

    /// The interpreter to use: the environment variable, then `.venv/bin/python` in the current
    /// directory, then `python3` on `PATH`.
    static func findPython(environment: [String: String]) throws -> URL {
        let manager = FileManager.default
        if let named = environment[pythonEnvironmentVariable], !named.isEmpty {
            guard manager.isExecutableFile(atPath: named) else {
                throw LoopbackServerError.pythonNotFound(
                    searched: ["\(pythonEnvironmentVariable)=\(named) (not an executable file)"])
            }
            return URL(fileURLWithPath: named)
        }
        var searched: [String] = []
        let venv = URL(fileURLWithPath: manager.currentDirectoryPath).appendingPathComponent(".venv/bin/python")
        if manager.isExecutableFile(atPath: venv.path) { return venv }
        searched.append(venv.path)
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3")
            if manager.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        searched.append("python3 on PATH")
        throw LoopbackServerError.pythonNotFound(searched: searched)
    }

    /// A conformance target for `transport` against the same behaviours over wss://, with the
    /// test CA trusted (needs the server started with certificates).
    public func tlsTarget(
        name: String, transport: any Transport, capabilities: ConformanceCapabilities = .all, connectCycles: Int = 1000
    ) throws -> ConformanceTarget {
        guard let tls = ports.tls, let certificates else {
            throw ConformanceFailure("the loopback server was started without certificates")
        }
        return ConformanceTarget(
            name: name, transport: transport, capabilities: capabilities,
            refusedURL: URL(string: "wss://127.0.0.1:\(Self.refusedPort())/")!,
            tls: TLSOptions(caFilePath: certificates.caFile), connectCycles: connectCycles, largestEcho: 4 << 20
        ) { server, pathAndQuery in
            switch server {
            case .websockets: URL(string: "wss://127.0.0.1:\(tls.wss)\(pathAndQuery)")!
            case .websocketsIPv6: URL(string: "wss://[::1]:\(tls.wss6)\(pathAndQuery)")!
            case .raw: URL(string: "wss://localhost:\(tls.raw_tls)\(pathAndQuery)")!
            }
        }
    }

    /// The TLS suite's target for `transport` (needs the server started with certificates).
    public func tlsSuiteTarget(
        name: String, transport: any Transport, connectCycles: Int = 1000, verifiesIPv6Literals: Bool = true,
        resumesSessions: Bool = false
    ) throws -> TLSConformanceTarget {
        guard let tls = ports.tls, let certificates else {
            throw ConformanceFailure("the loopback server was started without certificates")
        }
        return TLSConformanceTarget(
            name: name, transport: transport, ports: tls, certificates: certificates, connectCycles: connectCycles,
            verifiesIPv6Literals: verifiesIPv6Literals, resumesSessions: resumesSessions)
    }

    /// A loopback port nothing listens on: bound to learn a free number, then released.
    static func refusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 9 }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : 9
    }
}

/// Why ``LoopbackTestServer`` could not start. Each description says how to fix it.
public enum LoopbackServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No Python interpreter was found; `searched` lists where it looked.
    case pythonNotFound(searched: [String])
    /// The interpreter at `python` could not be started.
    case pythonNotStarted(python: String, reason: String)
    /// The interpreter at `python` has no `websockets` package (15 or later).
    case websocketsMissing(python: String)
    /// The server script is not among this module's resources.
    case scriptMissing
    /// The server exited (with `status`) before printing its ports; its standard error is in
    /// the test log.
    case exitedEarly(status: Int32)

    private static let install =
        "TransportConformance's loopback server needs Python 3 with the `websockets` package (15 or later): "
        + "`python3 -m venv .venv && .venv/bin/pip install websockets` in the package's root, or set "
        + "\(LoopbackTestServer.pythonEnvironmentVariable) to a python that has it"

    /// What went wrong and how to fix it.
    public var description: String {
        switch self {
        case .pythonNotFound(let searched):
            "no Python found (looked at: \(searched.joined(separator: ", "))). \(Self.install)"
        case .pythonNotStarted(let python, let reason):
            "could not start \(python): \(reason). \(Self.install)"
        case .websocketsMissing(let python):
            "\(python) has no `websockets` package. \(Self.install)"
        case .scriptMissing:
            "ws_test_server.py is missing from TransportConformance's resources"
        case .exitedEarly(let status):
            "the loopback server exited (status \(status)) before printing its ports; see its error output above"
        }
    }
}
