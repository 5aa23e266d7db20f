#if canImport(COpenSSL)
    import COpenSSL
    import COpenSSLShim
#endif

/// Which certificates a client trusts.
public enum TLSTrust: Sendable, Hashable {
    /// The system's trust store (OpenSSL's default paths).
    case system
    /// The CA certificates of a PEM file.
    case caFile(String)
    /// The CA certificates of PEM text, given as bytes.
    case caPEM([UInt8])
}

/// How a client verifies the server.
public struct TLSClientConfiguration: Sendable, Hashable {
    /// The certificates trusted as roots.
    public var trust: TLSTrust
    /// Whether the server's certificate and host name are checked. Off only in tests.
    public var verifiesPeer: Bool
    /// Whether the context keeps sessions from its handshakes and offers them again on the
    /// next connection to the same server name and port (TLS session resumption: a shorter
    /// handshake, no certificate sent again). Only sessions of handshakes this context
    /// verified are kept.
    public var resumesSessions: Bool

    /// Verification on, against `trust` (the system store by default); sessions resumed.
    public init(trust: TLSTrust = .system, verifiesPeer: Bool = true, resumesSessions: Bool = true) {
        self.trust = trust
        self.verifiesPeer = verifiesPeer
        self.resumesSessions = resumesSessions
    }
}

#if canImport(COpenSSL)
    /// OpenSSL's `SSL_CTX`: the settings and trusted certificates engines are made from.
    /// Immutable once made (but for its session cache, which has a lock); share one across
    /// engines and threads. A client context that resumes sessions keeps them in its own
    /// cache: a new context (other options, a renewed CA) starts with none.
    public final class TLSContext: @unchecked Sendable {
        let pointer: OpaquePointer
        let isServer: Bool
        let verifiesPeer: Bool
        /// The sessions offered again to the same server (nil: resumption off, or a server).
        let sessionCache: TLSSessionCache?

        /// A client context: TLS 1.2 at least, verification as `configuration` says.
        public convenience init(client configuration: TLSClientConfiguration) throws(TLSError) {
            try self.init(
                client: configuration, sessionsPerKey: TLSSessionCache.defaultSessionsPerKey,
                maximumKeys: TLSSessionCache.defaultMaximumKeys)
        }

        /// A client context whose session cache has these bounds (tests).
        init(client configuration: TLSClientConfiguration, sessionsPerKey: Int, maximumKeys: Int) throws(TLSError) {
            ERR_clear_error()
            guard let context = SSL_CTX_new(TLS_client_method()) else {
                throw TLSError.fromQueue("could not create a TLS client context")
            }
            pointer = context
            isServer = false
            verifiesPeer = configuration.verifiesPeer
            if configuration.resumesSessions {
                sessionCache = TLSSessionCache(sessionsPerKey: sessionsPerKey, maximumKeys: maximumKeys)
                _ = cssl_ctx_set_client_session_cache(context)
                SSL_CTX_sess_set_new_cb(context, tlsEngineNewSession)
            } else {
                sessionCache = nil
            }
            try Self.setMinimumVersion(context)
            guard configuration.verifiesPeer else {
                SSL_CTX_set_verify(context, cssl_verify_none(), nil)
                return
            }
            SSL_CTX_set_verify(context, cssl_verify_peer(), nil)
            switch configuration.trust {
            case .system:
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSError.fromQueue("could not load the system's trusted certificates")
                }
            case .caFile(let path):
                guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                    throw TLSError.fromQueue("could not load the CA file \(path)")
                }
            case .caPEM(let bytes):
                try Self.addCertificates(pem: bytes, to: context)
            }
        }

        /// A server context (for tests and benchmarks) from PEM files.
        public init(serverCertificateChainFile chain: String, privateKeyFile key: String) throws(TLSError) {
            ERR_clear_error()
            guard let context = SSL_CTX_new(TLS_server_method()) else {
                throw TLSError.fromQueue("could not create a TLS server context")
            }
            pointer = context
            isServer = true
            verifiesPeer = false
            sessionCache = nil
            try Self.setMinimumVersion(context)
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSError.fromQueue("could not load the certificate chain \(chain)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
                SSL_CTX_check_private_key(context) == 1
            else {
                throw TLSError.fromQueue("could not load the private key \(key)")
            }
        }

        deinit {
            sessionCache?.removeAll()
            SSL_CTX_free(pointer)
        }

        /// Caps the context at TLS 1.2 (tests of a TLS 1.2 peer).
        func limitToTLS12() throws(TLSError) {
            guard cssl_set_max_proto_version_tls12(pointer) == 1 else {
                throw TLSError.fromQueue("could not cap the version at TLS 1.2")
            }
        }

        private static func setMinimumVersion(_ context: OpaquePointer) throws(TLSError) {
            guard cssl_set_min_proto_version_tls12(context) == 1 else {
                throw TLSError.fromQueue("could not require TLS 1.2")
            }
        }

        private static func addCertificates(pem: [UInt8], to context: OpaquePointer) throws(TLSError) {
            guard let store = SSL_CTX_get_cert_store(context) else {
                throw TLSError.fromQueue("the context has no certificate store")
            }
            var added = 0
            let outcome: TLSError? = pem.withUnsafeBytes { bytes -> TLSError? in
                guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else {
                    return TLSError.fromQueue("BIO_new_mem_buf failed")
                }
                defer { BIO_free(bio) }
                while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                    defer { X509_free(certificate) }
                    guard X509_STORE_add_cert(store, certificate) == 1 else {
                        return TLSError.fromQueue("a CA certificate of the PEM data was refused")
                    }
                    added += 1
                }
                return nil
            }
            ERR_clear_error()  // the read that ends the loop leaves "no start line"
            if let outcome { throw outcome }
            guard added > 0 else { throw TLSError("the CA PEM data holds no certificate") }
        }
    }
#endif
