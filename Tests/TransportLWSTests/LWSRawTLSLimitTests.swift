import CLibWebSockets
import Glibc
import Testing

@testable import TransportLWS

/// Why the raw-socket framing serves ws:// only, pinned: libwebsockets 4.1.6 (built without
/// async DNS, as Debian's is) starts TLS on a `method = "RAW"` client before its socket is
/// connected, so `lws_client_connect_via_info` fails at once ("tls start fail": SSL_connect on
/// fd -1, EBADF). If a newer library lets it through, this test fails and wss:// can be
/// enabled on the raw path (with the TLS suite run on it).
@Suite("libwebsockets 4.1 raw client TLS, pinned", .timeLimit(.minutes(1)))
struct LWSRawTLSLimitTests {
    @Test("a RAW client connection with LCCSCF_USE_SSL fails before connecting; without TLS it starts")
    func rawClientWithTLSFailsBeforeConnecting() throws {
        #expect(try Self.startsRawClient(usesTLS: true) == false)
        #expect(try Self.startsRawClient(usesTLS: false) == true)
    }

    /// Whether `lws_client_connect_via_info` returns a wsi for a RAW client to a closed port.
    private static func startsRawClient(usesTLS: Bool) throws -> Bool {
        let name = strdup("raw-tls-probe")
        defer { free(name) }
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        defer {
            protocols.deinitialize(count: 2)
            protocols.deallocate()
        }
        protocols[0].name = UnsafePointer(name)
        protocols[0].callback = { _, _, _, _, _ in 0 }
        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protocols)
        if usesTLS { info.options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT) }
        // A TLS context creation must not overlap other tests' TLS handshakes (LWSTLSGate).
        if usesTLS { LWSTLSGate.shared.beginContextCreation() }
        let created = lws_create_context(&info)
        if usesTLS { LWSTLSGate.shared.endContextCreation(startsHandshake: false) }
        let context = try #require(created)
        defer { lws_context_destroy(context) }
        return "127.0.0.1".withCString { address in
            "localhost".withCString { host in
                "RAW".withCString { method in
                    var connectInfo = lws_client_connect_info()
                    connectInfo.context = context
                    connectInfo.address = address
                    connectInfo.host = host
                    connectInfo.port = 1
                    connectInfo.method = method
                    connectInfo.local_protocol_name = protocols[0].name
                    connectInfo.ssl_connection = usesTLS ? Int32(bitPattern: LCCSCF_USE_SSL.rawValue) : 0
                    return lws_client_connect_via_info(&connectInfo) != nil
                }
            }
        }
    }
}
