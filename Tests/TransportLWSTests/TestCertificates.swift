import Foundation
import TransportCore

/// A CA and server certificates made at test time with Debian's openssl CLI (EC P-256 keys, fast).
struct TestCertificates: Sendable {
    let directory: URL
    var caFile: String { path("ca.pem") }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct OpenSSLFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// `name.pem`/`name.key` pairs: "valid" (localhost, 127.0.0.1, signed by the CA),
    /// "wronghost" (wrong.example only), "expired" (notAfter a day ago), "selfsigned" (localhost).
    static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lws-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509"] + newKey + ["-days", "2", "-subj", "/CN=swift-clustaar test CA"]
                + ["-keyout", certificates.path("ca.key"), "-out", certificates.caFile])
        try certificates.signed("valid", subjectAltName: "DNS:localhost,IP:127.0.0.1", days: "2")
        try certificates.signed("wronghost", subjectAltName: "DNS:wrong.example", days: "2")
        // A negative validity puts notAfter in the past (OpenSSL 3.0 has no -not_after).
        try certificates.signed("expired", subjectAltName: "DNS:localhost,IP:127.0.0.1", days: "-1")
        try run(
            ["req", "-x509"] + newKey + ["-days", "2", "-subj", "/CN=localhost"]
                + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
                + ["-keyout", certificates.path("selfsigned.key"), "-out", certificates.path("selfsigned.pem")])
        return certificates
    }

    private func signed(_ name: String, subjectAltName: String, days: String) throws {
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.run(
            ["req"] + newKey + ["-subj", "/CN=\(name)", "-keyout", path("\(name).key"), "-out", path("\(name).csr")])
        try "subjectAltName=\(subjectAltName)\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try Self.run([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", days, "-extfile", path("\(name).ext"), "-out", path("\(name).pem"),
        ])
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLFailure(
                description: "openssl \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))"
            )
        }
    }

    /// Made once per test process.
    static func shared() async throws -> TestCertificates {
        try await sharedMake.value
    }

    private static let sharedMake = Task { try await offThePool { try make() } }
}

/// One TLS test server per certificate, started on first use.
enum TLSServers {
    static func server(for certificate: String) async throws -> TestServer {
        let certificates = try await TestCertificates.shared()
        let start = starts.withLock { starts -> Task<TestServer, any Error> in
            if let start = starts[certificate] { return start }
            let start = Task {
                try await offThePool {
                    try TestServer(arguments: [
                        "--cert", certificates.path("\(certificate).pem"),
                        "--key", certificates.path("\(certificate).key"),
                    ])
                }
            }
            starts[certificate] = start
            return start
        }
        return try await start.value
    }

    private static let starts = Locked<[String: Task<TestServer, any Error>]>([:])
}
