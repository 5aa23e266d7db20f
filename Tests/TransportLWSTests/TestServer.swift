import Foundation
import Testing
import TransportCore

/// A Python WebSocket peer (`Servers/lws_test_server.py`) run from the repository's `.venv`
/// (created by `make venv`). It exits when this process closes its stdin.
final class TestServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let stdin: Pipe

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    init(arguments: [String] = []) throws {
        let python = Self.repositoryRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw StartFailure(description: "\(python) is missing: run `make venv` first")
        }
        let script = Self.repositoryRoot.appendingPathComponent("Tests/TransportLWSTests/Servers/lws_test_server.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path] + arguments
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // The first line is "PORT <n>"; read until it is complete.
        var output = Data()
        while !output.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
        }
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first ?? ""
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            process.terminate()
            throw StartFailure(description: "the test server did not start: \(line)")
        }
        self.port = port
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    func url(_ path: String, scheme: String = "ws", host: String = "127.0.0.1") -> URL {
        URL(string: "\(scheme)://\(host):\(port)\(path)")!
    }

    /// The plain ws:// server the tests share, started once.
    static func shared() async throws -> TestServer {
        try await sharedStart.value
    }

    private static let sharedStart = Task { try await offThePool { try TestServer() } }
}

/// Runs blocking work (starting processes, reading their first line) on a thread of its own,
/// so the two threads of the cooperative pool never wait for Python to start: the tests'
/// timing checks would see the stall.
func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A fresh id for the test server's per-connection records.
func uniqueID() -> String { UUID().uuidString }
