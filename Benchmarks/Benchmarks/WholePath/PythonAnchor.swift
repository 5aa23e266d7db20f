// The anchor of suite 5: Scripts/wholepath_client.py (Python `websockets`, asyncio) run as a
// subprocess against this process's sandbox, in the same run as the Swift clients.
import Foundation

enum PythonAnchor {
    struct Result: Decodable {
        var samples: [Int] = []
        var seconds: Double = 0

        private enum CodingKeys: String, CodingKey { case samples, seconds }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            samples = try container.decodeIfPresent([Int].self, forKey: .samples) ?? []
            seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        }
    }

    /// The main package's root, from this file's place in it (Benchmarks/Benchmarks/WholePath/).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The Makefile's virtualenv (`make venv`), or WHOLEPATH_PYTHON.
    static var python: URL {
        if let path = ProcessInfo.processInfo.environment["WHOLEPATH_PYTHON"] { return URL(fileURLWithPath: path) }
        return packageRoot.appendingPathComponent(".venv/bin/python3")
    }

    static let script = packageRoot.appendingPathComponent("Benchmarks/Scripts/wholepath_client.py")

    /// Runs the script with `port` and `arguments`; its JSON result.
    static func run(port: Int, _ arguments: [String]) async throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw WholePathFailure("no Python at \(python.path): run `make venv` in the main package")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path, "\(port)"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read to the end off the task pool (the pipe may fill before the script exits).
        let (data, problems, status) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let problems = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (data, problems, process.terminationStatus))
            }
        }
        guard status == 0 else {
            throw WholePathFailure(
                "the Python client exited with \(status): \(String(decoding: problems, as: UTF8.self))")
        }
        return try JSONDecoder().decode(Result.self, from: data)
    }
}
