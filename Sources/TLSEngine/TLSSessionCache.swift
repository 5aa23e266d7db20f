#if canImport(COpenSSL)
    import COpenSSL
    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// Where a client session may be offered again: the host name the engine sent (SNI) and
    /// verified, and the port. The trust settings are the cache's own: each client
    /// `TLSContext` has its own cache, so a session never crosses to other options.
    public struct TLSSessionKey: Sendable, Hashable {
        /// The server name as given to the engine (a DNS name or an IP literal).
        public var serverName: String
        /// The server's TCP port.
        public var port: Int

        /// The key of `serverName` at `port`.
        public init(serverName: String, port: Int) {
            self.serverName = serverName
            self.port = port
        }
    }

    /// A client context's TLS sessions for resumption, as a browser keeps them: a few per
    /// server (newest first), for a few servers (least recently used dropped), so memory stays
    /// bounded. TLS 1.3 sessions (tickets) are used once: `take` removes them and the server's
    /// new tickets replace them. TLS 1.2 sessions stay until replaced or expired. Thread-safe.
    ///
    /// Holds one `SSL_SESSION` reference per entry and frees each when it leaves the cache.
    final class TLSSessionCache: @unchecked Sendable {
        static let defaultSessionsPerKey = 4
        static let defaultMaximumKeys = 32

        let sessionsPerKey: Int
        let maximumKeys: Int
        private let lock: UnsafeMutablePointer<pthread_mutex_t>
        /// Owned `SSL_SESSION` references by key, oldest first. Guarded by `lock`.
        private var sessions: [TLSSessionKey: [OpaquePointer]] = [:]
        /// Keys from least to most recently used. Guarded by `lock`.
        private var recency: [TLSSessionKey] = []

        init(sessionsPerKey: Int = defaultSessionsPerKey, maximumKeys: Int = defaultMaximumKeys) {
            self.sessionsPerKey = max(1, sessionsPerKey)
            self.maximumKeys = max(1, maximumKeys)
            lock = .allocate(capacity: 1)
            lock.initialize(to: pthread_mutex_t())
            pthread_mutex_init(lock, nil)
        }

        deinit {
            removeAll()
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        private func withLock<R>(_ body: () -> R) -> R {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return body()
        }

        /// Keeps `session` for `key`, taking over the caller's reference.
        func store(_ session: OpaquePointer, for key: TLSSessionKey) {
            var dropped: [OpaquePointer] = []
            withLock {
                var list = sessions[key] ?? []
                list.append(session)
                if list.count > sessionsPerKey { dropped += list.prefix(list.count - sessionsPerKey) }
                sessions[key] = Array(list.suffix(sessionsPerKey))
                recency.removeAll { $0 == key }
                recency.append(key)
                while recency.count > maximumKeys {
                    let oldest = recency.removeFirst()
                    dropped += sessions.removeValue(forKey: oldest) ?? []
                }
            }
            dropped.forEach { SSL_SESSION_free($0) }
        }

        /// The newest session for `key` that has not expired, as a reference the caller owns
        /// (and frees); nil when there is none. A TLS 1.3 session leaves the cache.
        func take(for key: TLSSessionKey, now: Int = Int(time(nil))) -> OpaquePointer? {
            var dropped: [OpaquePointer] = []
            let taken: OpaquePointer? = withLock {
                guard var list = sessions[key] else { return nil }
                defer {
                    sessions[key] = list.isEmpty ? nil : list
                    if list.isEmpty { recency.removeAll { $0 == key } }
                }
                while let session = list.last {
                    let expiry = Int(SSL_SESSION_get_time(session)) + Int(SSL_SESSION_get_timeout(session))
                    guard expiry > now, SSL_SESSION_is_resumable(session) == 1 else {
                        dropped.append(list.removeLast())
                        continue
                    }
                    if SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION {
                        return list.removeLast()  // a ticket is used once
                    }
                    // A copy: the connection's `SSL` uses the object it is given as its own,
                    // and OpenSSL marks it not resumable if that connection ends without
                    // `close_notify`.
                    return SSL_SESSION_dup(session)
                }
                return nil
            }
            dropped.forEach { SSL_SESSION_free($0) }
            return taken
        }

        /// How many sessions are kept for `key`.
        func count(for key: TLSSessionKey) -> Int { withLock { sessions[key]?.count ?? 0 } }

        /// How many sessions are kept in all.
        var totalCount: Int { withLock { sessions.values.reduce(0) { $0 + $1.count } } }

        /// Frees every session.
        func removeAll() {
            let dropped: [OpaquePointer] = withLock {
                defer {
                    sessions = [:]
                    recency = []
                }
                return sessions.values.flatMap { $0 }
            }
            dropped.forEach { SSL_SESSION_free($0) }
        }
    }
#endif
