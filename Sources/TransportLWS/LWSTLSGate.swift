import Foundation

/// Keeps TLS context creation apart from TLS handshakes in flight, process-wide.
///
/// Every `lws_context` that serves wss:// needs `LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT`, and lws
/// 4.1 then takes a new OpenSSL ex-data index for its `SSL*` → `lws*` link and stores it in a
/// global. A handshake that started under the previous index no longer finds its wsi in the
/// certificate verification callback and fails ("connect SSL err 1"); seen with concurrent wss
/// connections. So a context is created only while no handshake runs, and handshakes run only
/// between creations. Only service threads wait here, never the cooperative pool.
final class LWSTLSGate: @unchecked Sendable {
    static let shared = LWSTLSGate()

    private let condition = NSCondition()
    private var handshakes = 0
    private var creating = false

    /// Waits until no context is being created and no handshake runs, then claims creation.
    func beginContextCreation() {
        condition.lock()
        while creating || handshakes > 0 { condition.wait() }
        creating = true
        condition.unlock()
    }

    /// Ends the creation; if `startsHandshake`, the new connection's handshake now counts.
    func endContextCreation(startsHandshake: Bool) {
        condition.lock()
        creating = false
        if startsHandshake { handshakes += 1 }
        condition.broadcast()
        condition.unlock()
    }

    func endHandshake() {
        condition.lock()
        handshakes -= 1
        condition.broadcast()
        condition.unlock()
    }
}
