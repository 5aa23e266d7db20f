import Foundation
import TransportCore

/// A transport under test against the TLS listeners of the loopback server.
public struct TLSConformanceTarget: Sendable {
    /// A name for reports.
    public var name: String
    /// The transport under test.
    public var transport: any Transport
    /// Where the TLS listeners are.
    public var ports: LoopbackTestServer.TLSPorts
    /// The CA and certificates the listeners use.
    public var certificates: TLSTestCertificates
    /// How many connect/close cycles the resource scenario runs (1,000 unless a transport's
    /// connections are too slow to open for the test budget; its test says why).
    public var connectCycles: Int
    /// Whether the transport checks an IPv6 literal host against the certificate; a transport
    /// that cannot must fail such a connection with `.tls` (a pinned limitation).
    public var verifiesIPv6Literals: Bool
    /// Whether the transport resumes TLS sessions on reconnects (`TLSOptions.resumesSessions`);
    /// one that does not must make a full handshake every time.
    public var resumesSessions: Bool

    /// The test CA, trusted.
    var trustingTestCA: TLSOptions { TLSOptions(caFilePath: certificates.caFile) }

    func url(_ port: Int, _ path: String = "/echo", host: String = "localhost") -> URL {
        URL(string: "wss://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)")!
    }
}

/// One TLS behaviour every transport that serves wss:// must show.
public struct TLSConformanceScenario: Sendable, CustomStringConvertible {
    /// What the scenario shows, in words (the test argument's name).
    public let name: String
    /// The scenario bounds the growth of the whole process's resident memory: run it in a test
    /// process of its own (other tests running beside it grow the process too).
    public let measuresProcessMemory: Bool
    let body: @Sendable (TLSConformanceTarget) async throws -> Void

    init(
        _ name: String,
        measuresProcessMemory: Bool = false,
        _ body: @escaping @Sendable (TLSConformanceTarget) async throws -> Void
    ) {
        self.name = name
        self.measuresProcessMemory = measuresProcessMemory
        self.body = body
    }

    /// Runs the scenario; throws `ConformanceFailure` when the target does not behave.
    public func run(on target: TLSConformanceTarget) async throws {
        try await body(target)
    }

    /// The scenario's name.
    public var description: String { name }
}

/// What a client saw of one connection, in order: the scenarios compare it whole.
enum ConnectionEvent: Equatable, CustomStringConvertible {
    case opened
    case received(WebSocketMessage)
    case failed(TransportError.Code)
    case ended

    var description: String {
        switch self {
        case .opened: "opened"
        case .received(let message): "received(\(Check.describe(message)))"
        case .failed(let code): "failed(\(code))"
        case .ended: "ended"
        }
    }
}

extension TransportConformance {
    /// The TLS suite, in a stable order.
    public static var tlsScenarios: [TLSConformanceScenario] {
        verificationScenarios + resumptionScenarios + tlsStreamScenarios + tlsFaultScenarios
    }

    static var verificationScenarios: [TLSConformanceScenario] {
        [
            TLSConformanceScenario("a certificate signed by the given CA connects (DNS name, IPv4 and IPv6 literals)") {
                target in
                for host in ["localhost", "127.0.0.1"] {
                    try await echoOnce(
                        target,
                        WebSocketRequest(url: target.url(target.ports.wss, host: host), tls: target.trustingTestCA))
                }
                let ipv6 = WebSocketRequest(url: target.url(target.ports.wss6, host: "::1"), tls: target.trustingTestCA)
                if target.verifiesIPv6Literals {
                    try await echoOnce(target, ipv6)
                } else {
                    try await Check.throwsTransportError(.tls, "wss:// to [::1] (IPv6 literals not verifiable)") {
                        try await target.transport.withConnection(to: ipv6) { _ in }
                    }
                }
            },
            TLSConformanceScenario("the CA given as PEM bytes (not a file) verifies the server") { target in
                let ca = try target.certificates.pem("ca.pem")
                let other = try target.certificates.pem("selfsigned.pem")
                try await echoOnce(
                    target, WebSocketRequest(url: target.url(target.ports.wss), tls: TLSOptions(caPEM: ca)))
                // Every certificate of the bytes is trusted, not only the first (a bundle).
                try await echoOnce(
                    target, WebSocketRequest(url: target.url(target.ports.wss), tls: TLSOptions(caPEM: other + ca)))
                // The bytes alone are trusted: a certificate the server's CA did not issue fails.
                try await expectTLSFailure(
                    target, port: target.ports.wss, tls: TLSOptions(caPEM: other),
                    reason: "unable to get local issuer certificate", checksSockets: false)
            },
            TLSConformanceScenario("a CA file replaced on disk is read again by the next connection") { target in
                let directory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("ca-rotation-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let file = directory.appendingPathComponent("ca.pem")
                let options = TLSOptions(caFilePath: file.path)
                // First a CA that did not issue the server's certificate: refused.
                try Data(try target.certificates.pem("selfsigned.pem")).write(to: file)
                try await expectTLSFailure(
                    target, port: target.ports.wss, tls: options, reason: "unable to get local issuer certificate",
                    checksSockets: false)
                // Replaced the way tools rotate a CA (a new file renamed over the old one): the
                // same options now trust the server, in the same process.
                try Data(try target.certificates.pem("ca.pem")).write(to: file, options: .atomic)
                try await echoOnce(target, WebSocketRequest(url: target.url(target.ports.wss), tls: options))
                // Rewritten in place back to the wrong CA: refused again.
                let handle = try FileHandle(forWritingTo: file)
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: Data(try target.certificates.pem("selfsigned.pem")))
                try handle.close()
                try await expectTLSFailure(
                    target, port: target.ports.wss, tls: options, reason: "unable to get local issuer certificate",
                    checksSockets: false)
            },
            TLSConformanceScenario(
                "CA bytes that are not PEM, or a CA file and bytes together: a permanent tls error before opening"
            ) {
                target in
                let pem = try target.certificates.pem("ca.pem")
                let cases: [(TLSOptions, String)] = [
                    (TLSOptions(caPEM: Array("not a certificate\n".utf8)), "the CA PEM data holds no certificate"),
                    (TLSOptions(caPEM: []), "the CA PEM data holds no certificate"),
                    (
                        TLSOptions(caPEM: [0x2D, 0x00, 0xFF] + Array(repeating: 0x41, count: 300)),
                        "the CA PEM data holds no certificate"
                    ),
                    (
                        TLSOptions(caFilePath: target.certificates.caFile, caPEM: pem),
                        "TLSOptions gives both caFilePath and caPEM: give one"
                    ),
                ]
                // A certificate block around garbage passes the PEM check; OpenSSL refuses it
                // (TransportPOSIX: no certificate loaded; TransportLWS: lws loads no CA, so the
                // handshake fails verification). The reason differs; code and permanence do not.
                let garbled = Array("-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n".utf8)
                let garbledRequest = WebSocketRequest(
                    url: target.url(target.ports.wss), tls: TLSOptions(caPEM: garbled))
                try Check.equal(try await events(target, garbledRequest), [.failed(.tls)], "events (garbled block)")
                do {
                    try await target.transport.withConnection(to: garbledRequest) { _ in
                        throw ConformanceFailure("the body ran: the connection was accepted")
                    }
                    throw ConformanceFailure("no error")
                } catch let error as TransportError {
                    try Check.equal(error.code, .tls, "the error code (\(error))")
                    try Check.that(error.isPermanent, "a garbled CA should fail permanently (\(error))")
                }
                for (options, reason) in cases {
                    let request = WebSocketRequest(url: target.url(target.ports.wss), tls: options)
                    try Check.equal(try await events(target, request), [.failed(.tls)], "events (\(reason))")
                    do {
                        try await target.transport.withConnection(to: request) { _ in
                            throw ConformanceFailure("the body ran: the connection was accepted")
                        }
                        throw ConformanceFailure("no error")
                    } catch let error as TransportError {
                        try Check.equal(error.code, .tls, "the error code (\(error))")
                        try Check.equal(error.reason, reason, "the reason")
                        try Check.that(error.isPermanent, "a configuration error should be permanent (\(error))")
                    }
                }
            },
            TLSConformanceScenario(
                "a certificate for another host name fails: hostname mismatch, again after a good connection"
            ) { target in
                try await expectTLSFailure(
                    target, port: target.ports.wss_wronghost, tls: target.trustingTestCA, reason: "hostname mismatch")
                // A verified connection with the same options (a session kept), then the same
                // failure: nothing of the good connection is offered to, or skips, the check.
                try await echoOnce(
                    target, WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA))
                try await expectTLSFailure(
                    target, port: target.ports.wss_wronghost, tls: target.trustingTestCA, reason: "hostname mismatch")
            },
            TLSConformanceScenario(
                "an expired certificate fails: certificate has expired, again after a good connection"
            ) {
                target in
                try await expectTLSFailure(
                    target, port: target.ports.wss_expired, tls: target.trustingTestCA,
                    reason: "certificate has expired")
                try await echoOnce(
                    target, WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA))
                try await expectTLSFailure(
                    target, port: target.ports.wss_expired, tls: target.trustingTestCA,
                    reason: "certificate has expired")
            },
            TLSConformanceScenario("a self-signed certificate fails against the system trust store") { target in
                try await expectTLSFailure(
                    target, port: target.ports.wss_selfsigned, tls: TLSOptions(), reason: "self-signed certificate")
            },
            TLSConformanceScenario(
                "a certificate from a CA the system does not know fails, again after a good connection"
            ) {
                target in
                try await expectTLSFailure(
                    target, port: target.ports.wss_valid, tls: TLSOptions(),
                    reason: "unable to get local issuer certificate")
                // A server with the same certificate verified with its CA (a session kept under
                // those options), then the system store again: refused as before.
                let port = target.ports.wss
                try await echoOnce(target, WebSocketRequest(url: target.url(port), tls: target.trustingTestCA))
                try await expectTLSFailure(
                    target, port: port, tls: TLSOptions(), reason: "unable to get local issuer certificate",
                    checksSockets: false)
            },
            TLSConformanceScenario("insecure mode accepts self-signed, expired and wrong-host certificates") { target in
                for port in [
                    target.ports.wss_selfsigned_other, target.ports.wss_expired_other, target.ports.wss_wronghost_other,
                ] {
                    try await echoOnce(
                        target, WebSocketRequest(url: target.url(port), tls: TLSOptions(insecureSkipVerification: true))
                    )
                }
            },
            TLSConformanceScenario("24 concurrent verified connections all succeed") { target in
                let request = WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA)
                let echoed = try await withThrowingTaskGroup(of: WebSocketMessage.self) { group in
                    for index in 0..<24 {
                        group.addTask {
                            try await target.transport.withConnection(to: request) { connection in
                                try await connection.send(.text("\(index)"))
                                return try await connection.inbound.nextMessage("echo \(index)")
                            }
                        }
                    }
                    var echoed: Set<String> = []
                    for try await message in group { echoed.insert(message.string ?? "") }
                    return echoed
                }
                try Check.equal(echoed, Set((0..<24).map(String.init)), "the 24 echoes")
            },
        ]
    }

    static var resumptionScenarios: [TLSConformanceScenario] {
        [
            TLSConformanceScenario(
                "reconnects resume the TLS session: per host name, port and options; none after a CA file changes"
            ) { target in
                let directory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("resumption-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                // A CA file of its own: options no other scenario uses, so no session is kept yet.
                let file = directory.appendingPathComponent("ca.pem")
                let ca = Data(try target.certificates.pem("ca.pem"))
                try ca.write(to: file)
                let options = TLSOptions(caFilePath: file.path)
                let resumed = target.resumesSessions ? "resumed" : "full"
                func handshake(_ host: String, _ options: TLSOptions) async throws -> String {
                    let request = WebSocketRequest(
                        url: target.url(target.ports.wss, "/tls-session", host: host), tls: options)
                    return try await target.transport.withConnection(to: request) { connection in
                        try await connection.inbound.nextMessage("the server's report").string ?? ""
                    }
                }
                var seen: [String] = []
                for _ in 0..<3 { seen.append(try await handshake("localhost", options)) }
                // Another host name for the same server and port: not offered.
                for _ in 0..<2 { seen.append(try await handshake("127.0.0.1", options)) }
                // Resumption turned off: other options, a full handshake every time.
                for _ in 0..<2 {
                    seen.append(
                        try await handshake("localhost", TLSOptions(caFilePath: file.path, resumesSessions: false)))
                }
                // The CA file replaced (same certificate, a new file): a new context, no session.
                try ca.write(to: file, options: .atomic)
                for _ in 0..<2 { seen.append(try await handshake("localhost", options)) }
                try Check.equal(
                    seen, ["full", resumed, resumed, "full", resumed, "full", "full", "full", resumed], "handshakes")
            }
        ]
    }

    static var tlsStreamScenarios: [TLSConformanceScenario] {
        [
            TLSConformanceScenario("the server's TLS byte stream arrives one byte per write") { target in
                let request = WebSocketRequest(url: target.url(target.ports.tls_bytewise), tls: target.trustingTestCA)
                try await target.transport.withConnection(to: request) { connection in
                    for size in [0, 1, 125, 126, 3000, 16_500] {
                        let message = WebSocketMessage.binary(patternBytes(size))
                        try await connection.send(message)
                        try Check.equal(try await connection.inbound.nextMessage("echo"), message, "echo of \(size) B")
                    }
                }
            },
            TLSConformanceScenario("the server's TLS byte stream arrives in random chunk sizes") { target in
                let request = WebSocketRequest(url: target.url(target.ports.tls_random), tls: target.trustingTestCA)
                try await target.transport.withConnection(to: request) { connection in
                    for index in 0..<60 {
                        let message = WebSocketMessage.binary(patternBytes((index * 7919) % 70_000))
                        try await connection.send(message)
                        try Check.equal(try await connection.inbound.nextMessage("echo"), message, "echo \(index)")
                    }
                }
            },
            TLSConformanceScenario("a 1 MiB message each way") { target in
                let request = WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA)
                try await target.transport.withConnection(to: request) { connection in
                    let message = WebSocketMessage.binary(patternBytes(1 << 20))
                    try await connection.send(message)
                    try Check.equal(try await connection.inbound.nextMessage("echo"), message, "the 1 MiB echo")
                }
            },
        ]
    }

    static var tlsFaultScenarios: [TLSConformanceScenario] {
        [
            TLSConformanceScenario("close_notify then TCP close, without a close frame: connectionLost") { target in
                let port = target.ports.raw_tls_close
                let events = try await events(
                    target, WebSocketRequest(url: target.url(port, "/drop"), tls: target.trustingTestCA))
                try Check.equal(events, [.opened, .failed(.connectionLost)], "events")
                try checkNoSocket(to: port)
            },
            TLSConformanceScenario("a TCP reset in the middle of a TLS record: connectionLost") { target in
                let port = target.ports.tls_reset
                let request = WebSocketRequest(url: target.url(port), tls: target.trustingTestCA)
                let events = try await events(target, request, send: [.text("before"), .binary(patternBytes(10_000))])
                try Check.equal(events, [.opened, .received(.text("before")), .failed(.connectionLost)], "events")
                try checkNoSocket(to: port)
            },
            TLSConformanceScenario("a plain HTTP answer on a TLS port: tls") { target in
                let port = target.ports.plain_http
                let events = try await events(
                    target, WebSocketRequest(url: target.url(port), tls: target.trustingTestCA))
                try Check.equal(events, [.failed(.tls)], "events")
                try checkNoSocket(to: port)
            },
            TLSConformanceScenario(
                "a server that never answers the ClientHello: connectTimeout (TLS is part of connecting)"
            ) {
                target in
                let port = target.ports.silent
                let request = WebSocketRequest(
                    url: target.url(port), timeouts: WebSocketTimeouts(connect: .milliseconds(300)),
                    tls: target.trustingTestCA)
                let start = ContinuousClock.now
                let events = try await events(target, request)
                let elapsed = ContinuousClock.now - start
                try Check.equal(events, [.failed(.connectTimeout)], "events")
                // At least the configured 300 ms; no upper bound (see the ws:// handshake timeout).
                try Check.that(elapsed >= .milliseconds(300), "gave up after \(elapsed)")
                try checkNoSocket(to: port)
            },
            TLSConformanceScenario("a ws:// client on a TLS port fails before opening, without hanging") { target in
                let port = target.ports.wss_valid_other
                let url = URL(string: "ws://127.0.0.1:\(port)/echo")!
                let events = try await events(
                    target, WebSocketRequest(url: url, timeouts: WebSocketTimeouts(handshake: .seconds(5))))
                // The TLS server drops the plain request: the upgrade fails (the code depends on
                // what the transport's library saw first).
                let accepted: [TransportError.Code] = [.handshakeInvalid, .connectFailed, .connectionLost]
                guard events.count == 1, case .failed(let code) = events[0], accepted.contains(code) else {
                    throw ConformanceFailure("events: expected one failure of \(accepted), got \(events)")
                }
                try checkNoSocket(to: port)
            },
            TLSConformanceScenario("the closing handshake over TLS, then the connection ends") { target in
                let request = WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA)
                try await target.transport.withConnection(to: request) { connection in
                    await connection.close(code: .normalClosure, reason: "done")
                    try Check.equal(
                        try await connection.inbound.nextMessage("close"), .close(code: .normalClosure, reason: "done"),
                        "the server's close")
                    try await connection.inbound.expectEnd("after the close")
                }
            },
            TLSConformanceScenario(
                "1,000 wss:// connect/close cycles: no fd, thread or memory growth", measuresProcessMemory: true
            ) { target in
                let count = target.connectCycles
                let request = WebSocketRequest(url: target.url(target.ports.wss), tls: target.trustingTestCA)
                func cycles(_ count: Int) async throws {
                    for cycle in 0..<count {
                        try await target.transport.withConnection(to: request) { connection in
                            if cycle % 100 == 0 {
                                try await connection.send(.text("cycle \(cycle)"))
                                try Check.equal(
                                    try await connection.inbound.nextMessage("echo"), .text("cycle \(cycle)"), "echo")
                            }
                        }
                    }
                }
                try await cycles(50)  // warm-up: contexts, caches, the pool's threads
                let before = ProcessResources.now()
                try await cycles(count / 2)
                let middle = ProcessResources.now()
                try await cycles(count - count / 2)
                let after = ProcessResources.now()
                guard let before, let middle, let after else { return }  // no /proc: nothing to compare
                // Other tests run in parallel and open descriptors and threads of their own; a
                // leak of one per cycle shows as `count`.
                try Check.that(
                    after.descriptors - before.descriptors < count / 3,
                    "descriptors before: \(before.descriptors), after \(count) cycles: \(after.descriptors)")
                try Check.that(
                    after.threads - before.threads < count / 10,
                    "threads before: \(before.threads), after \(count) cycles: \(after.threads)")
                // Memory: a leak grows in both halves; a parallel test's peak (the allocator keeps
                // what it got) is one step. `make test` runs this scenario in a process of its own
                // (TLSProcessMemoryTests), where the process grew by at most 1 MB over the first
                // 500 POSIX cycles (the allocator settling) and 65 KB over the second, 57 KB per
                // half of 100 LWS cycles. 8 KiB per cycle is far above that, and below what one
                // leaked connection holds (POSIX: ~26 KB of OpenSSL session and engine; LWS: a
                // context, ~1 MB). Beside other suites (a plain parallel `swift test`) the process
                // grew ~60 KB per cycle's worth of time: run this suite alone.
                let allowance = (count / 2) * (8 << 10)
                let growth = (middle.residentBytes - before.residentBytes, after.residentBytes - middle.residentBytes)
                try Check.that(
                    growth.0 < allowance || growth.1 < allowance,
                    "resident memory grew in both halves: \(before.residentBytes) → \(middle.residentBytes) → "
                        + "\(after.residentBytes) bytes over \(count) cycles")
            },
        ]
    }

    // MARK: Helpers

    static func echoOnce(_ target: TLSConformanceTarget, _ request: WebSocketRequest) async throws {
        try await target.transport.withConnection(to: request) { connection in
            try await connection.send(.text("over TLS"))
            try Check.equal(
                try await connection.inbound.nextMessage("echo"), .text("over TLS"), "echo of \(request.url)")
        }
    }

    static func expectTLSFailure(
        _ target: TLSConformanceTarget, port: Int, tls: TLSOptions, reason: String, checksSockets: Bool = true
    ) async throws {
        let request = WebSocketRequest(url: target.url(port), tls: tls)
        do {
            try await target.transport.withConnection(to: request) { _ in
                throw ConformanceFailure("the body ran: the connection to \(request.url) was accepted")
            }
            throw ConformanceFailure("no error")
        } catch let error as TransportError {
            try Check.equal(error.code, .tls, "the error code (\(error))")
            try Check.that(error.reason.contains(reason), "the reason \"\(error.reason)\" should say \"\(reason)\"")
            // A verification failure is not transient: the reconnect policy must not retry it.
            try Check.that(error.isPermanent, "a verification failure should be permanent (\(error))")
        }
        // Only for a port no other scenario uses (see `checkNoSocket`).
        if checksSockets { try checkNoSocket(to: port) }
    }

    /// Connects, sends `send` one at a time (each after the previous echo or event), and
    /// records what happens until the connection fails or ends.
    static func events(
        _ target: TLSConformanceTarget, _ request: WebSocketRequest, send: [WebSocketMessage] = []
    ) async throws -> [ConnectionEvent] {
        var events: [ConnectionEvent] = []
        do {
            events = try await target.transport.withConnection(to: request) { connection in
                var events: [ConnectionEvent] = [.opened]
                var iterator = connection.inbound.makeAsyncIterator()
                var outbound = send[...]
                do {
                    while true {
                        if let next = outbound.popFirst() { try await connection.send(next) }
                        guard let message = try await iterator.next() else {
                            events.append(.ended)
                            return events
                        }
                        events.append(.received(message))
                    }
                } catch let error as TransportError {
                    events.append(.failed(error.code))
                    return events
                }
            }
        } catch let error as TransportError {
            events.append(.failed(error.code))
        }
        return events
    }

    /// Fails if this process still holds a TCP socket to the loopback `port` (from its descriptor
    /// table and /proc/net/tcp*): the connection's descriptor was closed. Only for ports no
    /// other scenario uses.
    static func checkNoSocket(to port: Int) throws {
        guard let sockets = ProcessResources.socketsConnected(toPort: port) else { return }
        try Check.equal(sockets, 0, "sockets still open to port \(port)")
    }
}

/// Descriptors, threads and resident memory of this process, from /proc (Linux).
struct ProcessResources {
    var descriptors: Int
    var threads: Int
    var residentBytes: Int

    static func now() -> ProcessResources? {
        guard let descriptors = openDescriptorCount(),
            let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count,
            let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return ProcessResources(descriptors: descriptors, threads: threads, residentBytes: kilobytes * 1024)
    }

    /// How many of this process's descriptors are TCP sockets whose remote port is `port`.
    static func socketsConnected(toPort port: Int) -> Int? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        var inodes: Set<Substring> = []
        for entry in entries {
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                link.hasPrefix("socket:[")
            else { continue }
            inodes.insert(Substring(link.dropFirst(8).dropLast()))
        }
        let remote = String(format: "%04X", port)
        var count = 0
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                guard fields.count > 9, fields[2].hasSuffix(":\(remote)"), inodes.contains(fields[9]) else { continue }
                count += 1
            }
        }
        return count
    }
}
