import Foundation
import TransportConformance
import TransportCore

/// One `lws_test_server.py` over TLS per certificate of ``TLSTestCertificates`` (TransportConformance's
/// test CA), started on first use: the service and `clustaar-chat` tests need its `/socket` and
/// `/reject/403` paths, which the shared loopback server does not serve.
enum TLSServers {
    static func server(for certificate: String) async throws -> TestServer {
        let certificates = try await TLSTestCertificates.shared()
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
