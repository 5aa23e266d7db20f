// TLSEngine: TLS as a machine that takes bytes and gives bytes, over the system's OpenSSL
// (Debian's OpenSSL 3, `libssl-dev`), for TransportPOSIX's wss://.
//
// Rules:
// - The engine never touches a socket, a clock or a thread. Ciphertext from the network goes
//   in (`receiveCiphertext`), plaintext comes out (`readPlaintext`); plaintext goes in
//   (`writePlaintext`), ciphertext for the network comes out (`takeCiphertext`). OpenSSL runs
//   over two memory BIOs; the caller moves the bytes.
// - "Wants read" and "wants write" are return values, and every failure is a thrown
//   `TLSError` carrying OpenSSL's own reason ("certificate has expired", "hostname mismatch").
//   Nothing here traps on bytes from the network.
// - Verification is OpenSSL's: the system trust store unless a CA is given, the host name
//   (DNS through `SSL_set1_host`, IP literals through `X509_VERIFY_PARAM_set1_ip_asc`), SNI for
//   DNS names, TLS 1.2 at least (1.3 when the server has it).
// - Session resumption (client): a context made with `resumesSessions` keeps the sessions of
//   its verified handshakes (copies, from OpenSSL's new-session callback, which finds its engine through the
//   `SSL`'s ex_data, unretained: the engine owns the `SSL`) in its `TLSSessionCache`, keyed by
//   server name and port; an engine given a port offers the newest one (`SSL_set_session`).
// - One engine belongs to one thread at a time (OpenSSL's error queue is per thread); contexts
//   are immutable once made and shared by any number of engines and threads.
// - On a platform without OpenSSL this module is empty (`TLSEngine.isAvailable` is false).

#if canImport(COpenSSL)
    import COpenSSL
    import COpenSSLShim
    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// One TLS session, client or server, driven through memory: see the module's rules.
    ///
    /// ```swift
    /// let engine = try TLSEngine(context: TLSContext(client: .init()), serverName: "example.com")
    /// // send engine.takeCiphertext(...) to the server, feed its answer to receiveCiphertext(_:),
    /// // call handshake() until it returns .complete, then readPlaintext/writePlaintext.
    /// ```
    public final class TLSEngine {
        /// What a handshake step needs next.
        public enum HandshakeStatus: Sendable, Hashable {
            /// The handshake is done: application data can flow.
            case complete
            /// More ciphertext from the peer is needed (send what `takeCiphertext` gives first).
            case wantsRead
            /// Ciphertext waits to be sent: take it, then call again.
            case wantsWrite
        }

        /// The outcome of `readPlaintext(into:)`.
        public enum ReadResult: Sendable, Hashable {
            /// This many plaintext bytes were written to the buffer.
            case plaintext(Int)
            /// No whole record is buffered: more ciphertext from the peer is needed.
            case wantsRead
            /// Ciphertext waits to be sent first (TLS messages the read produced, e.g. a key update).
            case wantsWrite
            /// The peer sent `close_notify`: no more plaintext will come.
            case closed
        }

        /// The outcome of `writePlaintext(_:)`.
        public enum WriteResult: Sendable, Hashable {
            /// This many plaintext bytes were sealed into records (now in `pendingCiphertextCount`).
            case accepted(Int)
            /// Too much ciphertext waits unsent: take it (and send it) first.
            case wantsWrite
            /// The session needs ciphertext from the peer before it can write.
            case wantsRead
        }

        /// Above this much unsent ciphertext, `writePlaintext` asks for the output to be taken
        /// first, so a writer cannot grow the output without bound.
        public static let outputHighWater = 256 << 10

        private let context: TLSContext
        private let ssl: OpaquePointer
        /// Ciphertext from the peer, read by OpenSSL.
        private let input: OpaquePointer
        /// Ciphertext for the peer, written by OpenSSL.
        private let output: OpaquePointer
        private var handshakeDone = false
        /// Where this client's sessions are kept and looked up (nil: not resumed, not kept).
        private let sessionKey: TLSSessionKey?

        /// A client engine for `serverName` (a DNS name or an IP literal), or a server engine
        /// when `context` is a server context (then `serverName` and `port` are ignored).
        ///
        /// With a `port`, a client context that resumes sessions offers one it kept from an
        /// earlier verified handshake with the same `serverName` and `port`, and keeps the
        /// sessions this handshake gives.
        public init(context: TLSContext, serverName: String?, port: Int? = nil) throws(TLSError) {
            self.context = context
            if !context.isServer, context.sessionCache != nil, let serverName, !serverName.isEmpty, let port {
                sessionKey = TLSSessionKey(serverName: serverName, port: port)
            } else {
                sessionKey = nil
            }
            ERR_clear_error()
            guard let ssl = SSL_new(context.pointer) else { throw TLSError.fromQueue("SSL_new failed") }
            guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
                SSL_free(ssl)
                throw TLSError.fromQueue("BIO_new failed")
            }
            // An empty input BIO means "not yet", not end of stream.
            _ = cssl_bio_set_mem_eof_return(input, -1)
            _ = cssl_bio_set_mem_eof_return(output, -1)
            SSL_set_bio(ssl, input, output)  // the SSL now owns both BIOs
            self.ssl = ssl
            self.input = input
            self.output = output
            _ = cssl_set_mode(
                ssl,
                cssl_mode_enable_partial_write() | cssl_mode_accept_moving_write_buffer() | cssl_mode_release_buffers())
            if context.isServer {
                SSL_set_accept_state(ssl)
                return
            }
            SSL_set_connect_state(ssl)
            guard let serverName, !serverName.isEmpty else { return }
            let verifies = context.verifiesPeer
            if Self.isIPLiteral(serverName) {
                // SNI carries DNS names only (RFC 6066 section 3).
                if verifies, X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) != 1 {
                    throw TLSError.fromQueue("the IP address \(serverName) cannot be checked")
                }
            } else {
                guard cssl_set_tlsext_host_name(ssl, serverName) == 1 else {
                    throw TLSError.fromQueue("the server name \(serverName) cannot be sent (SNI)")
                }
                if verifies {
                    SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                    guard SSL_set1_host(ssl, serverName) == 1 else {
                        throw TLSError.fromQueue("the host name \(serverName) cannot be checked")
                    }
                }
            }
            guard let sessionKey, let cache = context.sessionCache else { return }
            _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
            if let session = cache.take(for: sessionKey) {
                _ = SSL_set_session(ssl, session)  // takes its own reference
                SSL_SESSION_free(session)
                ERR_clear_error()
            }
        }

        /// Called by OpenSSL (through `tlsEngineNewSession`) with a session of this client's
        /// handshake: a copy is kept when the handshake verified the server (or the context
        /// does not verify) and the session can be resumed. A copy, because the `SSL` keeps
        /// the original as its current session and OpenSSL marks that one not resumable when
        /// the connection ends without `close_notify` (a TLS 1.0 rule TLS 1.2 and 1.3 dropped).
        fileprivate func sessionArrived(_ session: OpaquePointer) {
            guard let sessionKey, let cache = context.sessionCache, SSL_SESSION_is_resumable(session) == 1 else {
                return
            }
            if context.verifiesPeer, SSL_get_verify_result(ssl) != X509_V_OK { return }
            guard let copy = SSL_SESSION_dup(session) else {
                ERR_clear_error()
                return
            }
            cache.store(copy, for: sessionKey)
        }

        deinit {
            SSL_free(ssl)  // frees both BIOs
        }

        // MARK: Ciphertext, network side

        /// Hands ciphertext received from the peer to the engine (all of it is buffered).
        public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) {
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let chunk = Int32(clamping: bytes.count - offset)
                let written = BIO_write(input, base + offset, chunk)
                guard written > 0 else { return }  // only on allocation failure; OpenSSL then reports an error
                offset += Int(written)
            }
        }

        /// Ciphertext waiting to be sent to the peer, in bytes.
        public var pendingCiphertextCount: Int { Int(BIO_ctrl_pending(output)) }

        /// Moves up to `buffer.count` bytes of pending ciphertext into `buffer`; returns how many.
        public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            guard let base = buffer.baseAddress, buffer.count > 0, pendingCiphertextCount > 0 else { return 0 }
            let read = BIO_read(output, base, Int32(clamping: buffer.count))
            return read > 0 ? Int(read) : 0
        }

        /// Whether a read could give plaintext without more ciphertext from the network: a
        /// decrypted record not yet read out, or received ciphertext not yet processed.
        public var hasBufferedInput: Bool { SSL_pending(ssl) > 0 || BIO_ctrl_pending(input) > 0 }

        // MARK: The session

        /// Whether the handshake has completed.
        public var isHandshakeComplete: Bool { handshakeDone }

        /// Whether the handshake resumed a session kept from an earlier connection.
        public var isSessionReused: Bool { handshakeDone && SSL_session_reused(ssl) == 1 }

        /// The negotiated protocol, e.g. "TLSv1.3" (nil before the handshake completes).
        public var protocolVersion: String? {
            guard handshakeDone, let name = SSL_get_version(ssl) else { return nil }
            return String(cString: name)
        }

        /// Advances the handshake with what has been received.
        public func handshake() throws(TLSError) -> HandshakeStatus {
            if handshakeDone { return .complete }
            ERR_clear_error()
            let result = SSL_do_handshake(ssl)
            if result == 1 {
                handshakeDone = true
                return .complete
            }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ:
                return pendingCiphertextCount > 0 ? .wantsWrite : .wantsRead
            case SSL_ERROR_WANT_WRITE:
                return .wantsWrite
            default:
                throw failure(during: "the TLS handshake")
            }
        }

        /// Decrypts buffered records into `buffer`.
        public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> ReadResult {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return .plaintext(0) }
            ERR_clear_error()
            let result = SSL_read(ssl, base, Int32(clamping: buffer.count))
            if result > 0 { return .plaintext(Int(result)) }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: return .wantsRead
            case SSL_ERROR_WANT_WRITE: return .wantsWrite
            case SSL_ERROR_ZERO_RETURN: return .closed
            default: throw failure(during: "reading")
            }
        }

        /// Seals plaintext into records; returns how much was taken.
        public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> WriteResult {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return .accepted(0) }
            if pendingCiphertextCount >= Self.outputHighWater { return .wantsWrite }
            ERR_clear_error()
            // At most a few records per call: the output stays near the high-water mark.
            let result = SSL_write(ssl, base, Int32(min(bytes.count, 64 << 10)))
            if result > 0 { return .accepted(Int(result)) }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: return .wantsRead
            case SSL_ERROR_WANT_WRITE: return .wantsWrite
            default: throw failure(during: "writing")
            }
        }

        /// Frees OpenSSL's record buffers (about 17 KB for reading) while no record is half
        /// read or written; they are made again on the next read or write. For a connection
        /// that waits for the network: an idle connection then holds no record buffer.
        public func releaseBuffers() {
            _ = SSL_free_buffers(ssl)
        }

        /// Queues our `close_notify` (take it with `takeCiphertext`). Nothing can be written after.
        public func close() {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }

        /// Whether the peer's `close_notify` has arrived.
        public var peerClosed: Bool { SSL_get_shutdown(ssl) & Int32(SSL_RECEIVED_SHUTDOWN) != 0 }

        // MARK: Errors

        /// The error of the last call: the certificate check's verdict when it failed, else
        /// OpenSSL's error queue, else a plain description.
        private func failure(during what: String) -> TLSError {
            let verdict = SSL_get_verify_result(ssl)
            if !handshakeDone, verdict != X509_V_OK, let text = X509_verify_cert_error_string(verdict) {
                ERR_clear_error()
                return TLSError(
                    "certificate verify failed: \(String(cString: text))", isCertificateVerificationFailure: true)
            }
            return TLSError.fromQueue("\(what) failed (the peer closed or sent something that is not TLS)")
        }

        static func isIPLiteral(_ host: String) -> Bool {
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        }
    }

    /// OpenSSL's new-session callback for client contexts that resume sessions: hands the
    /// session to the engine that owns the `SSL`. Returns 0: OpenSSL keeps (and frees) the
    /// reference it passed; the cache keeps a copy of its own.
    let tlsEngineNewSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
        guard let ssl, let session, let engine = SSL_get_ex_data(ssl, 0) else { return 0 }
        Unmanaged<TLSEngine>.fromOpaque(engine).takeUnretainedValue().sessionArrived(session)
        return 0
    }

    extension TLSError {
        /// OpenSSL's error queue as text (emptied), or `fallback` if it is empty.
        static func fromQueue(_ fallback: String) -> TLSError {
            var reasons: [String] = []
            while true {
                let code = ERR_get_error()
                if code == 0 { break }
                if let reason = ERR_reason_error_string(code) {
                    reasons.append(String(cString: reason))
                } else {
                    var buffer = [CChar](repeating: 0, count: 256)
                    ERR_error_string_n(code, &buffer, buffer.count)
                    reasons.append(
                        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
            }
            return TLSError(reasons.isEmpty ? fallback : reasons.joined(separator: "; "))
        }
    }
#endif

/// A TLS failure, with OpenSSL's reason text.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason, e.g. "certificate verify failed: certificate has expired".
    public var reason: String
    /// Whether the peer's certificate failed verification (expired, wrong host, unknown CA...):
    /// the same certificate fails again, so retrying cannot help.
    public var isCertificateVerificationFailure: Bool

    /// An error with `reason`.
    public init(_ reason: String, isCertificateVerificationFailure: Bool = false) {
        self.reason = reason
        self.isCertificateVerificationFailure = isCertificateVerificationFailure
    }

    public var description: String { reason }
}

/// Whether this platform has the engine (OpenSSL found at build time).
public enum TLSSupport {
    #if canImport(COpenSSL)
        public static let isAvailable = true
    #else
        public static let isAvailable = false
    #endif
}
