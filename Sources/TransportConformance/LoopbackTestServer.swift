import Foundation
import TransportCore

/// The Python loopback server (`Tests/Servers/ws_test_server.py`) run as a subprocess with the
/// package's virtualenv (`make venv`). It prints its ports on one line, and exits when our end of
/// its stdin closes, so it never outlives the test process.
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

    /// The TLS listeners (see `Tests/Servers/ws_test_server.py`).
    public struct TLSPorts: Sendable, Hashable, Decodable {
        /// The three servers of `Ports` behind TLS with the "valid" certificate.
        public var wss: Int
        public var wss6: Int
        public var raw_tls: Int
        /// A second raw TLS server, for the scenarios that count their own sockets.
        public var raw_tls_close: Int
        /// Echo servers with the "wronghost", "expired", "selfsigned" and "valid" certificates,
        /// each twice: the first for a scenario that counts its sockets, the other for the rest.
        public var wss_wronghost: Int
        public var wss_expired: Int
        public var wss_selfsigned: Int
        public var wss_valid: Int
        public var wss_wronghost_other: Int
        public var wss_expired_other: Int
        public var wss_selfsigned_other: Int
        public var wss_valid_other: Int
        /// Relays to `wss` that write its byte stream one byte at a time, in random chunks,
        /// or reset TCP in the middle of the first big record.
        public var tls_bytewise: Int
        public var tls_random: Int
        public var tls_reset: Int
        /// Plain HTTP on a port a client takes for TLS.
        public var plain_http: Int
        /// Accepts and never writes (never answers the ClientHello).
        public var silent: Int
    }

    /// Where to reach it.
    public let ports: Ports
    private let process: Process
    private let stdinPipe: Pipe

    /// The certificates of the TLS listeners, if started with them.
    public let certificates: TLSTestCertificates?

    /// Starts the server of the package whose root is `packageRoot`; with `certificates`, its
    /// TLS listeners too.
    public init(packageRoot: URL, certificates: TLSTestCertificates? = nil) throws {
        let python = packageRoot.appendingPathComponent(".venv/bin/python")
        let script = packageRoot.appendingPathComponent("Tests/Servers/ws_test_server.py")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ConformanceFailure(
                "\(python.path) is missing: run `make venv` (python3 -m venv .venv && .venv/bin/pip install websockets)"
            )
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path] + (certificates.map { ["--tls-dir", $0.directory.path] } ?? [])
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdoutPipe.fileHandleForReading.availableData
            if chunk.isEmpty { throw ConformanceFailure("the test server exited before printing its ports") }
            line.append(chunk)
        }
        ports = try JSONDecoder().decode(Ports.self, from: line)
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

    /// A conformance target for `transport` against this server.
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
        name: String, transport: any Transport, connectCycles: Int = 1000, verifiesIPv6Literals: Bool = true
    ) throws -> TLSConformanceTarget {
        guard let tls = ports.tls, let certificates else {
            throw ConformanceFailure("the loopback server was started without certificates")
        }
        return TLSConformanceTarget(
            name: name, transport: transport, ports: tls, certificates: certificates, connectCycles: connectCycles,
            verifiesIPv6Literals: verifiesIPv6Literals)
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
