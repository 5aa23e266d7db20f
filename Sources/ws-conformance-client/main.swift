// ws-conformance-client: drives the Autobahn testsuite's fuzzingserver with one of our
// transports, to check RFC 6455 conformance by hand (the testsuite is not part of `make test`).
//
//     ws-conformance-client --transport posix --url ws://127.0.0.1:9001 --agent swift-posix
//
// The fuzzingserver protocol: `/getCaseCount` answers the number of cases; each
// `/runCase?case=N&agent=NAME` is one case, in which the client echoes every message back
// with its opcode until the server closes; `/updateReports?agent=NAME` writes the reports.
import Foundation
import TransportCore
import TransportLWS
import TransportPOSIX

/// The command line, parsed.
struct Options {
    var transportName = "posix"
    var url = URL(string: "ws://127.0.0.1:9001")!
    var agent = "swift-clustaar"
    /// Run only these cases (1-based), e.g. `--cases 1-20`; all when nil.
    var cases: ClosedRange<Int>?
    /// Instead of Autobahn: time this many 64-byte echoes against `url` (an echo server).
    var echoRoundTrips: Int?
    /// A PEM file of CA certificates to trust over wss:// (a fuzzingserver with a private CA).
    var caFile: String?

    var tls: TLSOptions { TLSOptions(caFilePath: caFile) }

    static let usage = """
        usage: ws-conformance-client --transport posix|lws|lws-raw --url URL --agent NAME [--cases FIRST-LAST] [--ca FILE]
               ws-conformance-client --transport posix|lws|lws-raw --url ECHO-URL --echo-rtt COUNT [--ca FILE]
        --ca FILE: trust the CA certificates in this PEM file for a wss:// URL instead of the system's
        """

    init(arguments: [String]) throws(UsageError) {
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            guard let value = remaining.popFirst() else { throw UsageError("missing value for \(flag)") }
            switch flag {
            case "--transport": transportName = value
            case "--url":
                guard let url = URL(string: value), url.scheme != nil else { throw UsageError("invalid URL \(value)") }
                self.url = url
            case "--agent": agent = value
            case "--cases":
                let bounds = value.split(separator: "-").compactMap { Int($0) }
                guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1] else {
                    throw UsageError("--cases wants FIRST-LAST, got \(value)")
                }
                cases = bounds[0]...bounds[1]
            case "--echo-rtt":
                guard let count = Int(value), count > 0 else { throw UsageError("--echo-rtt wants a positive count") }
                echoRoundTrips = count
            case "--ca":
                guard FileManager.default.isReadableFile(atPath: value) else {
                    throw UsageError("--ca: cannot read \(value)")
                }
                caFile = value
            default: throw UsageError("unknown option \(flag)")
            }
        }
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The transport named on the command line. The one place to add a backend.
func makeTransport(named name: String) throws(UsageError) -> any Transport {
    switch name {
    case "posix":
        return POSIXTransport()
    case "lws":
        return LWSTransport()
    case "lws-raw":
        return LWSTransport(framing: .experimentalRawSocket)
    default:
        throw UsageError("unknown transport \"\(name)\": expected posix, lws or lws-raw")
    }
}

/// Autobahn sends messages up to 16 MiB (section 9) and checks our own limits nowhere else.
let limits = WebSocketLimits(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20, outboundBufferSize: 16 << 20)

func request(_ options: Options, _ path: String, _ query: [URLQueryItem]) -> WebSocketRequest {
    var components = URLComponents(url: options.url, resolvingAgainstBaseURL: false) ?? URLComponents()
    components.path = path
    components.queryItems = query.isEmpty ? nil : query
    return WebSocketRequest(url: components.url ?? options.url, limits: limits, tls: options.tls)
}

func caseCount(_ transport: any Transport, _ options: Options) async throws -> Int {
    try await transport.withConnection(to: request(options, "/getCaseCount", [])) { connection in
        for try await message in connection.inbound {
            if let text = message.string, let count = Int(text) { return count }
        }
        throw UsageError("the fuzzingserver did not send a case count")
    }
}

/// Echoes every message until the server closes (or fails the connection, which is the
/// outcome some cases expect). Returns how many messages were echoed.
func runCase(_ number: Int, _ transport: any Transport, _ options: Options) async -> Int {
    let caseRequest = request(
        options, "/runCase",
        [URLQueryItem(name: "case", value: String(number)), URLQueryItem(name: "agent", value: options.agent)])
    do {
        return try await transport.withConnection(to: caseRequest) { connection in
            var echoed = 0
            for try await message in connection.inbound {
                switch message {
                case .text, .binary:
                    try await connection.send(message)
                    echoed += 1
                case .close:
                    return echoed
                }
            }
            return echoed
        }
    } catch {
        // Expected in the cases where the client must fail the connection.
        return -1
    }
}

func updateReports(_ transport: any Transport, _ options: Options) async throws {
    let reportRequest = request(options, "/updateReports", [URLQueryItem(name: "agent", value: options.agent)])
    try await transport.withConnection(to: reportRequest) { connection in
        for try await _ in connection.inbound {}
    }
}

/// Sends `count` 64-byte text messages one at a time, each after the previous echo, and
/// prints the round-trip times.
func measureEchoRoundTrips(_ count: Int, _ transport: any Transport, _ options: Options) async throws {
    let message = WebSocketMessage.text(String(repeating: "x", count: 64))
    let echoRequest = WebSocketRequest(url: options.url, tls: options.tls)
    let samples = try await transport.withConnection(to: echoRequest) { connection in
        var iterator = connection.inbound.makeAsyncIterator()
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = ContinuousClock.now
            try await connection.send(message)
            guard try await iterator.next() == message else { throw UsageError("the echo did not match") }
            samples.append(ContinuousClock.now - start)
        }
        return samples
    }
    let sorted = samples.sorted()
    let total = samples.reduce(Duration.zero, +)
    func microseconds(_ duration: Duration) -> String {
        String(
            format: "%.1f µs",
            Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6)
    }
    print(
        "\(count) echoes of 64 B: total \(microseconds(total)), mean \(microseconds(total / count)), "
            + "p50 \(microseconds(sorted[count / 2])), p99 \(microseconds(sorted[min(count - 1, count * 99 / 100)])), "
            + "min \(microseconds(sorted[0])), max \(microseconds(sorted[count - 1]))")
}

func main() async -> Int32 {
    do {
        let options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
        let transport = try makeTransport(named: options.transportName)
        if let count = options.echoRoundTrips {
            try await measureEchoRoundTrips(count, transport, options)
            return 0
        }
        let count = try await caseCount(transport, options)
        let selected = options.cases.map { max(1, $0.lowerBound)...min(count, $0.upperBound) } ?? 1...count
        print(
            "fuzzingserver has \(count) cases; running \(selected.lowerBound)-\(selected.upperBound) as \(options.agent)"
        )
        let start = ContinuousClock.now
        for number in selected {
            let echoed = await runCase(number, transport, options)
            if number % 25 == 0 || number == selected.upperBound {
                print("case \(number)/\(count): echoed \(echoed) messages")
            }
        }
        try await updateReports(transport, options)
        print("done in \(ContinuousClock.now - start); reports updated")
        return 0
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("ws-conformance-client: \(error)\n\(Options.usage)\n".utf8))
        return 2
    } catch {
        FileHandle.standardError.write(Data("ws-conformance-client: \(error)\n".utf8))
        return 1
    }
}

exit(await main())
