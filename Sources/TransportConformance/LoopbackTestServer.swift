import Foundation
import TransportCore

/// The Python loopback server (`Tests/Servers/ws_test_server.py`) run as a subprocess with the
/// package's virtualenv (`make venv`). It prints its ports on one line, and exits when our end of
/// its stdin closes, so it never outlives the test process.
public final class LoopbackTestServer: Sendable {
    public struct Ports: Sendable, Hashable, Decodable {
        public var ws: Int
        public var ws6: Int
        public var raw: Int
    }

    public let ports: Ports
    private let process: Process
    private let stdinPipe: Pipe

    /// Starts the server of the package whose root is `packageRoot`.
    public init(packageRoot: URL) throws {
        let python = packageRoot.appendingPathComponent(".venv/bin/python")
        let script = packageRoot.appendingPathComponent("Tests/Servers/ws_test_server.py")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ConformanceFailure(
                "\(python.path) is missing: run `make venv` (python3 -m venv .venv && .venv/bin/pip install websockets)")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path]
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
