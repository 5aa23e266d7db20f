import TLSEngine
import TransportCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the byte stream under the WebSocket: the socket's, or TLS'.
enum StreamError: Error, CustomStringConvertible {
    case system(SystemCallError)
    case tls(TLSError)

    var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .tls(let error): "TLS: \(error.reason)"
        }
    }

    /// The error for the open phase: a socket failure lost the connection, a TLS one is `.tls`
    /// (permanent when the certificate failed verification: reconnecting cannot help).
    var transportError: TransportError {
        switch self {
        case .system(let error): TransportError(.connectionLost, "\(error)")
        case .tls(let error): TransportError(.tls, error.reason, isPermanent: error.isCertificateVerificationFailure)
        }
    }
}

#if canImport(COpenSSL)
    /// TLS between the socket and the WebSocket bytes (wss://): moves ciphertext between the
    /// non-blocking socket and the `TLSEngine`. Used on the connection's I/O thread only.
    final class TLSSocketLayer {
        static var isAvailable: Bool { true }

        let engine: TLSEngine
        /// Ciphertext read from the socket, on its way into the engine.
        private let inbound: UnsafeMutableRawBufferPointer
        /// Ciphertext taken from the engine and not yet fully sent: `outbound[outStart..<outEnd]`.
        private let outbound: UnsafeMutableRawBufferPointer
        private var outStart = 0
        private var outEnd = 0
        private var socketEnded = false

        private static let bufferSize = 64 << 10

        init(options: TLSOptions, serverName: String, port: Int) throws(TLSError) {
            engine = try TLSEngine(
                context: try TLSContextCache.context(for: options), serverName: serverName, port: port)
            inbound = .allocate(byteCount: Self.bufferSize, alignment: 16)
            outbound = .allocate(byteCount: Self.bufferSize, alignment: 16)
        }

        deinit {
            inbound.deallocate()
            outbound.deallocate()
        }

        /// Ciphertext waits to be sent.
        var hasPendingOutput: Bool { outStart < outEnd || engine.pendingCiphertextCount > 0 }

        /// The engine holds input a read could turn into plaintext without the socket.
        var hasBufferedInput: Bool { !socketEnded && engine.hasBufferedInput }

        /// Sends pending ciphertext; false when the socket would block before all of it went out.
        func flush(_ socket: Int32) throws(StreamError) -> Bool {
            while true {
                if outStart == outEnd {
                    outStart = 0
                    outEnd = engine.takeCiphertext(into: outbound)
                    if outEnd == 0 { return true }
                }
                let result: SystemCalls.IOResult
                do {
                    result = try SystemCalls.sendBytes(
                        socket, UnsafeRawBufferPointer(rebasing: outbound[outStart..<outEnd]))
                } catch {
                    throw .system(error)
                }
                guard case .processed(let count) = result else { return false }
                outStart += count
            }
        }

        /// One read of ciphertext from the socket into the engine.
        func fill(_ socket: Int32) throws(StreamError) -> SystemCalls.IOResult {
            let result: SystemCalls.IOResult
            do {
                result = try SystemCalls.receiveBytes(socket, into: inbound)
            } catch {
                throw .system(error)
            }
            switch result {
            case .processed(let count): engine.receiveCiphertext(UnsafeRawBufferPointer(rebasing: inbound[..<count]))
            case .endOfFile: socketEnded = true
            case .wouldBlock: break
            }
            return result
        }

        /// Advances the handshake: the engine's verdict, after sending what it produced.
        func handshakeStep(_ socket: Int32) throws(StreamError) -> (TLSEngine.HandshakeStatus, flushed: Bool) {
            let status: TLSEngine.HandshakeStatus
            do {
                status = try engine.handshake()
            } catch {
                _ = try? flush(socket)  // the alert tells the server why, when the socket takes it
                throw .tls(error)
            }
            return (status, try flush(socket))
        }

        /// Plaintext into `buffer`, reading the socket as needed: `.endOfFile` after the peer's
        /// `close_notify` or TCP end.
        func receive(_ socket: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(StreamError)
            -> SystemCalls.IOResult
        {
            while true {
                let result: TLSEngine.ReadResult
                do {
                    result = try engine.readPlaintext(into: buffer)
                } catch {
                    throw .tls(error)
                }
                switch result {
                case .plaintext(let count):
                    return .processed(count)
                case .closed:
                    return .endOfFile
                case .wantsWrite:
                    guard try flush(socket) else { return .wouldBlock }
                case .wantsRead:
                    if socketEnded { return .endOfFile }
                    switch try fill(socket) {
                    case .wouldBlock:
                        engine.releaseBuffers()  // waiting for the network: keep no record buffer
                        return .wouldBlock
                    case .endOfFile: return .endOfFile
                    case .processed: continue
                    }
                }
            }
        }

        /// Seals plaintext and sends what the socket takes; `.processed(n)` counts plaintext.
        func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) throws(StreamError) -> SystemCalls.IOResult {
            // Ciphertext already waiting goes first: unsent output is the backpressure.
            guard try flush(socket) else { return .wouldBlock }
            let result: TLSEngine.WriteResult
            do {
                result = try engine.writePlaintext(bytes)
            } catch {
                throw .tls(error)
            }
            _ = try flush(socket)
            switch result {
            case .accepted(let count): return .processed(count)
            case .wantsWrite, .wantsRead: return .wouldBlock
            }
        }

        /// Queues our close_notify and sends what the socket takes at once.
        func closeNotify(_ socket: Int32) {
            engine.close()
            _ = try? flush(socket)
        }
    }

    /// One `SSL_CTX` per distinct `TLSOptions`, made on first use and kept: loading the trust
    /// store costs milliseconds and memory, and every connection with the same options shares
    /// it. A CA file that changed on disk since its context was made (another device, inode,
    /// size or modification time: one `stat` per connection) gets a new context, so a rotated
    /// private CA is trusted from the next connection on; open connections keep theirs. A
    /// context that cannot be made (see `TLSOptions.configurationProblem`) is not cached: each
    /// connection fails with the same reason. Each context keeps the TLS sessions of its
    /// connections (unless `resumesSessions` is off): a renewed context starts without any, so
    /// no session verified under the old CA is offered again.
    enum TLSContextCache {
        private static let contexts = Locked<[TLSOptions: (context: TLSContext, caFile: FileVersion?)]>([:])

        static func context(for options: TLSOptions) throws(TLSError) -> TLSContext {
            let caFile = options.caFilePath.flatMap(FileVersion.init(path:))
            return try contexts.withLock { contexts throws(TLSError) -> TLSContext in
                if let cached = contexts[options], cached.caFile == caFile { return cached.context }
                contexts[options] = nil
                if let problem = options.configurationProblem { throw TLSError(problem) }
                let trust: TLSTrust =
                    if let pem = options.caPEM { .caPEM(pem) } else {
                        options.caFilePath.map { .caFile($0) } ?? .system
                    }
                let context = try TLSContext(
                    client: TLSClientConfiguration(
                        trust: trust, verifiesPeer: !options.insecureSkipVerification,
                        resumesSessions: options.resumesSessions))
                contexts[options] = (context, caFile)
                return context
            }
        }
    }

    /// What tells one version of a file from the next: replaced (a new inode, as tools that
    /// write a new file and rename it over the old one do) or rewritten in place (size, time).
    struct FileVersion: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int

        /// nil when the file cannot be examined (then making the context reports why).
        init?(path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            #if canImport(Darwin)
                modifiedSeconds = Int(status.st_mtimespec.tv_sec)
                modifiedNanoseconds = Int(status.st_mtimespec.tv_nsec)
            #else
                modifiedSeconds = Int(status.st_mtim.tv_sec)
                modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
            #endif
        }
    }
#else
    /// Without OpenSSL there is no TLS layer: `POSIXTransport` refuses wss:// before any I/O.
    final class TLSSocketLayer {
        static var isAvailable: Bool { false }

        init(options: TLSOptions, serverName: String, port: Int) throws(TLSError) {
            throw TLSError("TLS is not available on this platform")
        }

        var hasPendingOutput: Bool { false }
        var hasBufferedInput: Bool { false }
        func flush(_ socket: Int32) throws(StreamError) -> Bool { true }
        func receive(_ socket: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(StreamError)
            -> SystemCalls.IOResult
        { .endOfFile }
        func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) throws(StreamError) -> SystemCalls.IOResult {
            .endOfFile
        }
        func closeNotify(_ socket: Int32) {}
    }
#endif
