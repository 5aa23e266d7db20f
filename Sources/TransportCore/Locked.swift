import Foundation
import Synchronization

/// A value behind a lock, shared by the package's threaded code (transports, test support).
///
/// Built on `Synchronization.Mutex`. Under ThreadSanitizer (`-DTSAN`) it uses `NSLock`, because
/// TSan cannot see the futex of a contended `Mutex` and reports false races.
package final class Locked<Value: ~Copyable>: @unchecked Sendable {
    #if TSAN
        private let lock = NSLock()
        private var value: Value

        package init(_ value: consuming sending Value) { self.value = value }

        package func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> R {
            lock.lock()
            defer { lock.unlock() }
            return try body(&value)
        }
    #else
        private let mutex: Mutex<Value>

        package init(_ value: consuming sending Value) { mutex = Mutex(value) }

        package func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> R {
            try mutex.withLock(body)
        }
    #endif
}
