// FuzzSupport: what every fuzz target shares. The driver call (SwiftPM gives executables their
// own `main`, so libFuzzer's is never reached: each target hands its callback to
// `LLVMFuzzerRunDriver` itself), a reader that takes configuration bytes off the front of an
// input, and the invariant check that turns a broken invariant into a crash libFuzzer records.
//
// Rules: targets never trap on the input itself (the code under test must not either); they
// trap only through `fuzzCheck`, when the code under test broke one of its own promises.
import CFuzzDriver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs libFuzzer with the process's arguments (corpus directories, `-max_total_time=`...)
/// and exits with its status.
public func runFuzzDriver(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}

/// The bytes libFuzzer passes, copied (its buffer is only valid during the call).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the process with a message when the code under test broke an invariant: libFuzzer
/// sees the abort, saves the input as `crash-<sha1>` and reports it.
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    guard !condition() else { return }
    let text = Array("fuzz invariant broken at \(file):\(line): \(message())\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Reads configuration off the front of an input: a byte at a time, zero once exhausted.
public struct FuzzInputReader {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 when none is left.
    public mutating func byte() -> UInt8 {
        guard let first = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return first
    }

    /// One of `choices`, picked by the next byte.
    public mutating func pick<Value>(_ choices: [Value]) -> Value {
        choices[Int(byte()) % choices.count]
    }

    /// Up to `limit` bytes.
    public mutating func take(upTo limit: Int) -> ArraySlice<UInt8> {
        let taken = bytes.prefix(limit)
        bytes = bytes.dropFirst(taken.count)
        return taken
    }

    /// Everything left.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { bytes = bytes[bytes.endIndex...] }
        return bytes
    }
}

/// `bytes` cut into consecutive chunks whose sizes come from `sizes` (0 stands for 1), cycled;
/// without sizes, one chunk. Used to check that incremental decoders do not depend on where
/// the network split their input.
public func chunks(of bytes: ArraySlice<UInt8>, sizes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    guard !sizes.isEmpty else { return [bytes] }
    var result: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    var sizeIndex = sizes.startIndex
    while start < bytes.endIndex {
        let size = max(1, Int(sizes[sizeIndex]))
        let end = min(bytes.endIndex, start + size)
        result.append(bytes[start..<end])
        start = end
        sizeIndex = sizes.index(after: sizeIndex)
        if sizeIndex == sizes.endIndex { sizeIndex = sizes.startIndex }
    }
    return result
}
