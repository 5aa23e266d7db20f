// Suite 4's TLS rows (issue 13): TransportPOSIX through its OpenSSL engine, TransportLWS over
// wss://, and a swift-nio client with swift-nio-ssl, against one swift-nio + swift-nio-ssl echo
// server in this process. Same work as the ws:// rows, plus the TLS handshake time (connect to
// open: TCP, TLS, upgrade) and memory per idle wss:// connection.
import Benchmark
import Dispatch
import Foundation
import NIOSSL
import Synchronization
import TransportCore
import TransportLWS
import TransportPOSIX

/// A CA and a "localhost"/127.0.0.1 server certificate made with the system's `openssl`.
struct BenchCertificates: Sendable {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }

    private static let made = Mutex<BenchCertificates?>(nil)

    static func shared() throws -> BenchCertificates {
        try made.withLock { made in
            if let made { return made }
            let certificates = try make()
            made = certificates
            return certificates
        }
    }

    private static func make() throws -> BenchCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = BenchCertificates(directory: directory)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509"] + newKey + [
                "-days", "2", "-subj", "/CN=bench CA", "-keyout", path("ca.key"), "-out", path("ca.pem"),
            ])
        try run(
            ["req"] + newKey + ["-subj", "/CN=localhost", "-keyout", path("server.key"), "-out", path("server.csr")])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try run([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem"),
        ])
        return certificates
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EchoFailure(description: "openssl \(arguments.joined(separator: " ")) failed")
        }
    }
}

/// The clients of the TLS rows.
enum TLSEchoClientKind: String, CaseIterable, EchoClient {
    case posix = "posix-tls"
    case lws = "lws-tls"
    case nio = "nio-tls"

    private static let nioContext = Mutex<NIOSSLContext?>(nil)

    /// The NIO client's context: the bench CA trusted, full verification.
    static func nioClientContext() throws -> NIOSSLContext {
        try nioContext.withLock { context in
            if let context { return context }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(try BenchCertificates.shared().caFile)
            let made = try NIOSSLContext(configuration: configuration)
            context = made
            return made
        }
    }

    /// Runs `body` with a new TLS connection of this client to `port`. POSIX resumes TLS
    /// sessions only when asked: every row but "resumed" compares full handshakes (NIO's client
    /// makes one each time; LWS never resumes).
    func withLink<Result: Sendable>(port: Int, _ body: (any EchoLink) async throws -> Result) async throws -> Result {
        try await withLink(port: port, resumesSessions: false, body)
    }

    /// As `withLink(port:_:)`, POSIX resuming TLS sessions when `resumesSessions` is set.
    func withLink<Result: Sendable>(
        port: Int, resumesSessions: Bool, _ body: (any EchoLink) async throws -> Result
    ) async throws -> Result {
        let options = TLSOptions(caFilePath: try BenchCertificates.shared().caFile, resumesSessions: resumesSessions)
        switch self {
        case .posix:
            return try await TransportEchoLink.with(POSIXTransport(), port: port, tls: options) { try await body($0) }
        case .lws:
            return try await TransportEchoLink.with(LWSTransport(), port: port, tls: options) { try await body($0) }
        case .nio:
            return try await NIOEchoLink.with(port: port, tls: try Self.nioClientContext()) { try await body($0) }
        }
    }
}

/// The handshake rows: each client's full handshake, and POSIX's resumed one (a reconnect to
/// the same host and port, offering the ticket of the connection before).
enum TLSHandshakeKind: String, CaseIterable {
    case posix = "posix-tls"
    case posixResumed = "posix-tls-resumed"
    case lws = "lws-tls"
    case nio = "nio-tls"

    var client: TLSEchoClientKind {
        switch self {
        case .posix, .posixResumed: .posix
        case .lws: .lws
        case .nio: .nio
        }
    }

    var resumesSessions: Bool { self == .posixResumed }

    /// `count` handshakes, connect to open, in nanoseconds, after one that sets up the
    /// contexts and libraries (and, resuming, leaves the first session).
    func measure(port: Int, count: Int) async throws -> [Int] {
        try await client.withLink(port: port, resumesSessions: resumesSessions) { _ in }
        var samples: [Int] = []
        let clock = ContinuousClock()
        for _ in 0..<count {
            let start = clock.now
            let opened = try await client.withLink(port: port, resumesSessions: resumesSessions) { _ in clock.now }
            samples.append(nanoseconds(start.duration(to: opened)))
        }
        return samples
    }
}

let handshakeP50 = BenchmarkMetric.custom("handshake p50 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let handshakeP99 = BenchmarkMetric.custom("handshake p99 (ns)", polarity: .prefersSmaller, useScalingFactor: false)

func registerTLSBenchmarks() {
    registerEchoBenchmarks(TLSEchoClientKind.allCases) { try EchoServer.runningTLS().port }
    let handshakes = 200
    for kind in TLSHandshakeKind.allCases {
        Benchmark(
            "tls-handshake/\(kind.rawValue) x\(handshakes)",
            configuration: loopbackConfiguration([handshakeP50, handshakeP99])
        ) { benchmark in
            do {
                let samples = try await kind.measure(port: try EchoServer.runningTLS().port, count: handshakes)
                benchmark.measurement(handshakeP50, percentile(samples, 0.50))
                benchmark.measurement(handshakeP99, percentile(samples, 0.99))
            } catch {
                benchmark.error("\(kind) handshakes failed: \(error)")
            }
        }
    }
    for client in TLSEchoClientKind.allCases {
        let count = idleConnectionCount
        Benchmark(
            "idle/\(client.rawValue) x\(count)",
            configuration: loopbackConfiguration([rssPerConnection, threadsPer100Connections], iterations: 1)
        ) { benchmark in
            do {
                let port = try EchoServer.runningTLS().port
                let (before, open) = try await statusWithIdleConnections(count: count) { whileOpen in
                    try await client.withLink(port: port) { _ in await whileOpen() }
                }
                benchmark.measurement(rssPerConnection, (open.residentBytes - before.residentBytes) / count)
                benchmark.measurement(threadsPer100Connections, (open.threads - before.threads) * 100 / count)
            } catch {
                benchmark.error("\(client) idle connections failed: \(error)")
            }
        }
    }
}

/// `LOOPBACK_TLS_HANDSHAKES=posix-tls LOOPBACK_PROFILE_COUNT=2000 .build/release/Loopback`: only
/// handshakes (connect to open, then close) of one client (or `posix-tls-resumed`: POSIX
/// reconnects that resume), for `perf record -g`; prints the p50.
func runTLSHandshakeProfileIfAsked() {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["LOOPBACK_TLS_HANDSHAKES"] else { return }
    guard let kind = TLSHandshakeKind(rawValue: name) else {
        print("LOOPBACK_TLS_HANDSHAKES must be one of \(TLSHandshakeKind.allCases.map(\.rawValue))")
        exit(2)
    }
    let count = environment["LOOPBACK_PROFILE_COUNT"].flatMap { Int($0) } ?? 1000
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let samples = try await kind.measure(port: try EchoServer.runningTLS().port, count: count)
            print(
                "handshake \(kind.rawValue) x\(count): p50 \(percentile(samples, 0.5) / 1000) us,"
                    + " p99 \(percentile(samples, 0.99) / 1000) us")
        } catch {
            print("handshakes failed: \(error)")
        }
        finished.signal()
    }
    finished.wait()
    exit(0)
}

/// `LOOPBACK_TLS_IDLE=posix-tls .build/release/Loopback` (or `posix`, `nio`... for ws://): the
/// idle-connection row of one client alone, its resident set split by kind of mapping
/// (/proc/self/smaps: thread stacks, the 8 MiB anonymous mappings, the main heap, other anonymous memory such as
/// malloc's thread arenas, files), per connection.
func runTLSIdleProfileIfAsked() {
    guard let name = ProcessInfo.processInfo.environment["LOOPBACK_TLS_IDLE"] else { return }
    // With LOOPBACK_OPENSSL_SITES=1, OpenSSL's live bytes by source line (the bookkeeping
    // itself grows the resident set: read the RSS figures from a run without it).
    if ProcessInfo.processInfo.environment["LOOPBACK_OPENSSL_SITES"] != nil { OpenSSLAllocations.install() }
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let count = idleConnectionCount
            let open: IdleOpener
            if let client = TLSEchoClientKind(rawValue: name) {
                let port = try EchoServer.runningTLS().port
                open = { whileOpen in try await client.withLink(port: port) { _ in await whileOpen() } }
            } else if let client = EchoClientKind(rawValue: name) {
                let port = try EchoServer.running().port
                open = { whileOpen in try await client.withLink(port: port) { _ in await whileOpen() } }
            } else {
                print("LOOPBACK_TLS_IDLE: unknown client \(name)")
                exit(2)
            }
            try await open {}
            let mapsBefore = try residentByMappingKind()
            let openSSLBefore = OpenSSLAllocations.live.load(ordering: .relaxed)
            let sitesBefore = OpenSSLAllocations.bySite()
            let mapsOpen = Mutex<[String: Int]>([:])
            let opened = Mutex<Int>(0)
            let (before, status) = try await statusWithIdleConnections(count: count) { whileOpen in
                try await open {
                    let last = opened.withLock { opened -> Bool in
                        opened += 1
                        return opened == count + 1  // statusWithIdleConnections opens one first
                    }
                    if last, let maps = try? residentByMappingKind() {
                        mapsOpen.withLock { $0 = maps }
                        OpenSSLAllocations.mark()
                    }
                    await whileOpen()
                }
            }
            let openSSLOpen = OpenSSLAllocations.liveAtMark.load(ordering: .relaxed)
            let maps = mapsOpen.withLock { $0 }
            let split = maps.keys.sorted().map { "\($0) \(((maps[$0] ?? 0) - (mapsBefore[$0] ?? 0)) / count)" }
            print(
                "idle \(name) x\(count): \((status.residentBytes - before.residentBytes) / count) B RSS per connection"
                    + " (\(split.joined(separator: ", "))), \(status.threads - before.threads) threads,"
                    + " system OpenSSL live heap \((openSSLOpen - openSSLBefore) / count) B per connection")
            let sitesOpen = OpenSSLAllocations.sitesAtMark.withLock { $0 }
            let grown = sitesOpen.map { ($0.key, ($0.value - (sitesBefore[$0.key] ?? 0)) / count) }
                .filter { $0.1 >= 200 }.sorted { $0.1 > $1.1 }
            for (site, bytes) in grown.prefix(25) { print("  OpenSSL \(site): \(bytes) B per connection") }
        } catch {
            print("idle failed: \(error)")
        }
        finished.signal()
    }
    finished.wait()
    exit(0)
}

/// Counts the bytes the system's OpenSSL (libcrypto.so.3, TransportPOSIX's TLS engine; NIOSSL
/// has BoringSSL built in) holds, through CRYPTO_set_mem_functions, found with dlsym so this
/// package needs no OpenSSL module. Installed before OpenSSL allocates anything.
enum OpenSSLAllocations {
    static let live = Atomic<Int>(0)
    static let liveAtMark = Atomic<Int>(0)

    /// Live allocations by address: OpenSSL's source file and line, and size.
    static let sites = Mutex<[UInt: (site: String, size: Int)]>([:])
    static let sitesAtMark = Mutex<[String: Int]>([:])
    static let sitesBefore = Mutex<[String: Int]>([:])

    static func bySite() -> [String: Int] {
        sites.withLock { sites in sites.values.reduce(into: [:]) { $0[$1.site, default: 0] += $1.size } }
    }

    static func mark() {
        liveAtMark.store(live.load(ordering: .relaxed), ordering: .relaxed)
        sitesAtMark.withLock { $0 = bySite() }
    }

    static func record(_ pointer: UnsafeMutableRawPointer, _ file: UnsafePointer<CChar>?, _ line: Int32) {
        let site = "\(file.map { String(cString: $0) } ?? "?"):\(line)"
        let size = usableSize(pointer)
        sites.withLock { $0[UInt(bitPattern: pointer)] = (site, size) }
    }

    static func forget(_ pointer: UnsafeMutableRawPointer) {
        _ = sites.withLock { $0.removeValue(forKey: UInt(bitPattern: pointer)) }
    }

    typealias Allocate = @convention(c) (Int, UnsafePointer<CChar>?, Int32) -> UnsafeMutableRawPointer?
    typealias Reallocate =
        @convention(c) (UnsafeMutableRawPointer?, Int, UnsafePointer<CChar>?, Int32) ->
        UnsafeMutableRawPointer?
    typealias Free = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> Void
    typealias SetFunctions = @convention(c) (Allocate, Reallocate, Free) -> Int32

    typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
    /// glibc's `malloc_usable_size` (not in Swift's Glibc module).
    nonisolated(unsafe) static var usableSize: UsableSize = { _ in 0 }

    static func install() {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_usable_size") {
            usableSize = unsafeBitCast(symbol, to: UsableSize.self)
        }
        guard let library = dlopen("libcrypto.so.3", RTLD_NOW),
            let symbol = dlsym(library, "CRYPTO_set_mem_functions")
        else {
            print("libcrypto.so.3 not found: no OpenSSL count")
            return
        }
        let set = unsafeBitCast(symbol, to: SetFunctions.self)
        let installed = set(
            { size, file, line in
                let pointer = malloc(size)
                if let pointer {
                    OpenSSLAllocations.live.add(OpenSSLAllocations.usableSize(pointer), ordering: .relaxed)
                    OpenSSLAllocations.record(pointer, file, line)
                }
                return pointer
            },
            { old, size, file, line in
                let before = old.map { OpenSSLAllocations.usableSize($0) } ?? 0
                if let old { OpenSSLAllocations.forget(old) }
                let pointer = realloc(old, size)
                if let pointer {
                    OpenSSLAllocations.live.add(OpenSSLAllocations.usableSize(pointer) - before, ordering: .relaxed)
                    OpenSSLAllocations.record(pointer, file, line)
                }
                return pointer
            },
            { pointer, _, _ in
                if let pointer {
                    OpenSSLAllocations.live.subtract(OpenSSLAllocations.usableSize(pointer), ordering: .relaxed)
                    OpenSSLAllocations.forget(pointer)
                }
                free(pointer)
            })
        if installed != 1 { print("CRYPTO_set_mem_functions refused (OpenSSL already allocated)") }
    }
}

/// Resident bytes by kind of mapping, from /proc/self/smaps.
func residentByMappingKind() throws -> [String: Int] {
    // Read to the end: /proc files report a size of 0.
    guard let data = FileHandle(forReadingAtPath: "/proc/self/smaps")?.readDataToEndOfFile() else {
        throw EchoFailure(description: "cannot read /proc/self/smaps")
    }
    let text = String(decoding: data, as: UTF8.self)
    var totals: [String: Int] = [:]
    var kind = "other"
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first else { continue }
        if first.contains("-") && fields.count >= 5 {
            // A mapping's header: range, permissions, offset, device, inode, [path].
            let path = fields.count >= 6 ? String(fields[5]) : ""
            kind = path == "[heap]" ? "heap" : path.isEmpty ? "anon" : "file"
        } else if first == "Size:", kind == "anon", fields.count >= 2, let size = Int(fields[1]),
            (8180...8192).contains(size)
        {
            kind = "stack"
        } else if first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
            totals[kind, default: 0] += kilobytes * 1024
        }
    }
    return totals
}

/// `LOOPBACK_TLS_REPORT=1 .build/release/Loopback`: every TLS row in one process, printed as
/// lines of text, outside the benchmark tool (the three clients interleaved per measurement,
/// so a machine's load changes hit all three alike).
func runTLSReportIfAsked() {
    guard ProcessInfo.processInfo.environment["LOOPBACK_TLS_REPORT"] != nil else { return }
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let port = try EchoServer.runningTLS().port
            for client in TLSEchoClientKind.allCases { try await client.withLink(port: port) { _ in } }
            for size in echoPayloadSizes {
                let roundTrips = size < 1024 ? 5000 : 2000
                for client in TLSEchoClientKind.allCases {
                    let samples = try await client.withLink(port: port) { link in
                        try await measureRoundTrips(link, payload: echoPayload(size), warmup: 200, count: roundTrips)
                    }
                    print(
                        "rtt \(client.rawValue) \(sizeLabel(size)): p50 \(percentile(samples, 0.5) / 1000) us,"
                            + " p99 \(percentile(samples, 0.99) / 1000) us")
                }
                let pipelined = size < 1024 ? 20_000 : 5000
                for client in TLSEchoClientKind.allCases {
                    let rate = try await client.withLink(port: port) { link in
                        try await measureThroughput(
                            link, payload: echoPayload(size), count: pipelined, window: pipelineWindow)
                    }
                    print("pipelined \(client.rawValue) \(sizeLabel(size)): \(Int(rate)) msg/s")
                }
            }
            for kind in TLSHandshakeKind.allCases {
                let samples = try await kind.measure(port: port, count: 200)
                print(
                    "handshake \(kind.rawValue): p50 \(percentile(samples, 0.5) / 1000) us,"
                        + " p99 \(percentile(samples, 0.99) / 1000) us")
            }
            for client in TLSEchoClientKind.allCases {
                let (before, open) = try await statusWithIdleConnections(count: idleConnectionCount) { whileOpen in
                    try await client.withLink(port: port) { _ in await whileOpen() }
                }
                print(
                    "idle \(client.rawValue) x\(idleConnectionCount): "
                        + "\((open.residentBytes - before.residentBytes) / idleConnectionCount) B RSS per connection, "
                        + "\(open.threads - before.threads) threads")
            }
        } catch {
            print("TLS report failed: \(error)")
        }
        finished.signal()
    }
    finished.wait()
    exit(0)
}
