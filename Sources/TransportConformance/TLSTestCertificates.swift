import Foundation
import TransportCore

/// A CA and server certificates made at test time with the system's `openssl` command (EC
/// P-256 keys: fast to make and to use), in a fresh temporary directory.
///
/// `name.pem`/`name.key` pairs: "valid" (localhost, 127.0.0.1 and ::1, signed by the CA),
/// "wronghost" (wrong.example only), "expired" (notAfter a day ago), "selfsigned" (localhost,
/// its own issuer).
public struct TLSTestCertificates: Sendable {
    /// The directory holding the files.
    public let directory: URL
    /// The CA certificate's PEM file.
    public var caFile: String { path("ca.pem") }

    /// The path of a file of the directory, e.g. `path("valid.pem")`.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The bytes of a file of the directory, e.g. `pem("ca.pem")` for `TLSOptions(caPEM:)`.
    public func pem(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// Makes the CA and the certificates (blocking: runs `openssl` several times).
    public static func make() throws -> TLSTestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TLSTestCertificates(directory: directory)
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509"] + newKey + ["-days", "2", "-subj", "/CN=swift-clustaar test CA"]
                + ["-keyout", certificates.path("ca.key"), "-out", certificates.caFile])
        let loopback = "DNS:localhost,IP:127.0.0.1,IP:::1"
        try certificates.signed("valid", subjectAltName: loopback, days: "2")
        try certificates.signed("wronghost", subjectAltName: "DNS:wrong.example", days: "2")
        // A negative validity puts notAfter in the past (OpenSSL 3.0 has no -not_after).
        try certificates.signed("expired", subjectAltName: loopback, days: "-1")
        try run(
            ["req", "-x509"] + newKey + ["-days", "2", "-subj", "/CN=localhost"]
                + ["-addext", "subjectAltName=\(loopback)"]
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
            throw ConformanceFailure(
                "openssl \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// Made once per test process, off the cooperative pool.
    public static func shared() async throws -> TLSTestCertificates {
        try await sharedMake.value
    }

    private static let sharedMake = Task {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try make() }) }.start()
        }
    }
}
