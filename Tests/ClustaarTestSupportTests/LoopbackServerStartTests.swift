import Foundation
import Testing

@testable import TransportConformance

/// How `LoopbackTestServer` finds its Python, and the errors a third-party package's tests see
/// when it cannot.
@Suite struct LoopbackServerStartTests {
    @Test func theEnvironmentVariableNamesThePython() throws {
        let python = try LoopbackTestServer.findPython(environment: [
            LoopbackTestServer.pythonEnvironmentVariable: "/bin/sh", "PATH": "",
        ])
        #expect(python.path == "/bin/sh")
    }

    @Test func aMissingPythonNamedByTheEnvironmentIsReported() {
        #expect(
            throws: LoopbackServerError.pythonNotFound(searched: [
                "TRANSPORT_CONFORMANCE_PYTHON=/nonexistent/python (not an executable file)"
            ])
        ) {
            try LoopbackTestServer.findPython(environment: [
                LoopbackTestServer.pythonEnvironmentVariable: "/nonexistent/python"
            ])
        }
    }

    @Test func theServerScriptIsAResourceOfTheModule() throws {
        let script = try LoopbackTestServer.script()
        #expect(script.lastPathComponent == "ws_test_server.py")
        #expect(FileManager.default.fileExists(atPath: script.path))
    }

    /// A virtualenv made without pip has no `websockets`: starting the server says so, and how
    /// to install it.
    @Test(.timeLimit(.minutes(1))) func aPythonWithoutWebsocketsFailsWithTheFix() throws {
        let base = try LoopbackTestServer.findPython(environment: ProcessInfo.processInfo.environment)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("no-websockets-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let venv = Process()
        venv.executableURL = base
        venv.arguments = ["-m", "venv", "--without-pip", directory.path]
        try venv.run()
        venv.waitUntilExit()
        try #require(venv.terminationStatus == 0)
        let python = directory.appendingPathComponent("bin/python")

        let error = try #require(throws: LoopbackServerError.self) { try LoopbackTestServer(python: python) }
        #expect(error == .websocketsMissing(python: python.path))
        #expect(error.description.contains("pip install websockets"))
        #expect(error.description.contains("TRANSPORT_CONFORMANCE_PYTHON"))
    }
}
