// Suites 1 and 2 of the benchmarks (issue 8): the WebSocket frame codec (WebSocketProtocol, which both transports use) beside
// swift-nio's NIOWebSocket codec, and masking beside `memcpy`, in the same run.
//
// Rules of this file:
// - Each benchmark does the same work as its anchor: same frames, same sizes, same batch. Names
//   are "<suite>/<what> <size> x<frames per iteration>" so a pair differs only by its prefix.
// - Every iteration handles at least 64 KiB of payload (frames of 16 B come 4096 at a time) so
//   that the clock's resolution does not dominate; divide by the batch for per-frame figures.
// - State that lives across iterations (decoders, output buffers) is built before the first
//   measured iteration: the malloc counts show the codec's steady state.
import Benchmark
import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import WebSocketProtocol

/// The payload sizes of suite 1 (issue 8): 16 B to 1 MiB.
let frameSizes = [16, 256, 4096, 64 << 10, 1 << 20]

/// Frames per iteration for a payload size: enough for 64 KiB of payload, at least one.
func framesPerIteration(_ size: Int) -> Int { max(1, (64 << 10) / size) }

/// "16 B", "4 KiB", "1 MiB".
func sizeLabel(_ size: Int) -> String {
    switch size {
    case ..<1024: "\(size) B"
    case ..<(1 << 20): "\(size >> 10) KiB"
    default: "\(size >> 20) MiB"
    }
}

/// A payload that looks like text (JSON-ish ASCII), deterministic.
func samplePayload(_ size: Int) -> [UInt8] {
    let pattern = Array(#"{"type":"send_text_action","text":"Hello, how can I help you today?"},"#.utf8)
    return (0..<size).map { pattern[$0 % pattern.count] }
}

let benchmarkMaskKey = WebSocketMaskKey(0x37, 0xFA, 0x21, 0x3D)
let nioMaskKey = WebSocketMaskingKey([0x37, 0xFA, 0x21, 0x3D])!

func codecConfiguration() -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(1),
        maxIterations: 20_000
    )
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = codecConfiguration()
    for size in frameSizes {
        let count = framesPerIteration(size)
        let label = "\(sizeLabel(size)) x\(count)"
        let payload = samplePayload(size)
        // What a server sends: `count` unmasked text frames back to back, as one read.
        var wire: [UInt8] = []
        for _ in 0..<count {
            payload.withUnsafeBytes {
                WebSocketFrameEncoder.encode(opcode: .text, payload: $0, maskKey: nil, into: &wire)
            }
        }
        registerDecodeBenchmarks(label: label, wire: wire, frames: count, maxFrameSize: size)
        registerEncodeBenchmarks(label: label, payload: payload, frames: count)
    }
    registerMaskingBenchmarks()
}

/// Suite 1, decode: `frames` server frames from one buffer, ours then NIO's.
func registerDecodeBenchmarks(label: String, wire: [UInt8], frames: Int, maxFrameSize: Int) {
    Benchmark("decode/posix \(label)") { benchmark in
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: maxFrameSize)
        func decodeAll() -> Int {
            wire.withUnsafeBytes { decoder.append($0) }
            var decoded = 0
            while let frame = try? decoder.nextFrame() {
                decoded += frame.payload.count
                blackHole(frame)
            }
            return decoded
        }
        blackHole(decodeAll())  // grows the decoder's buffer once, outside the measurement
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(decodeAll()) }
    }
    Benchmark("decode/nio \(label)") { benchmark in
        let channel = EmbeddedChannel()
        let decoder = ByteToMessageHandler(NIOWebSocket.WebSocketFrameDecoder(maxFrameSize: maxFrameSize))
        guard (try? channel.pipeline.syncOperations.addHandler(decoder)) != nil else { return }
        let buffer = ByteBuffer(bytes: wire)
        func decodeAll() -> Int {
            _ = try? channel.writeInbound(buffer)
            var decoded = 0
            while let frame = try? channel.readInbound(as: NIOWebSocket.WebSocketFrame.self) {
                decoded += frame.length
                blackHole(frame)
            }
            return decoded
        }
        blackHole(decodeAll())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(decodeAll()) }
        _ = try? channel.finish()
    }
}

/// Suite 1, encode: `frames` masked client text frames, ours then NIO's.
func registerEncodeBenchmarks(label: String, payload: [UInt8], frames: Int) {
    Benchmark("encode-masked/posix \(label)") { benchmark in
        // One output buffer reused for every frame, as a transport's send buffer is.
        var output: [UInt8] = []
        output.reserveCapacity(
            WebSocketFrameEncoder.headerSize(payloadCount: payload.count, masked: true) + payload.count)
        func encodeAll() -> Int {
            var written = 0
            payload.withUnsafeBytes { bytes in
                for _ in 0..<frames {
                    output.removeAll(keepingCapacity: true)
                    WebSocketFrameEncoder.encode(
                        opcode: .text, payload: bytes, maskKey: benchmarkMaskKey, into: &output)
                    written += output.count
                    blackHole(output)
                }
            }
            return written
        }
        blackHole(encodeAll())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(encodeAll()) }
    }
    Benchmark("encode-masked/nio \(label)") { benchmark in
        let channel = EmbeddedChannel()
        guard (try? channel.pipeline.syncOperations.addHandler(NIOWebSocket.WebSocketFrameEncoder())) != nil else {
            return
        }
        let data = ByteBuffer(bytes: payload)
        func encodeAll() -> Int {
            var written = 0
            for _ in 0..<frames {
                let frame = NIOWebSocket.WebSocketFrame(fin: true, opcode: .text, maskKey: nioMaskKey, data: data)
                _ = try? channel.writeOutbound(frame)
                // NIO writes the header and the (masked copy of the) payload as two buffers.
                while let part = try? channel.readOutbound(as: ByteBuffer.self) {
                    written += part.readableBytes
                    blackHole(part)
                }
            }
            return written
        }
        blackHole(encodeAll())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(encodeAll()) }
        _ = try? channel.finish()
    }
}

/// Suite 2: masking in place vs `memcpy` of the same bytes (the physical limit), and NIO's mask.
func registerMaskingBenchmarks() {
    for size in frameSizes {
        let repeats = framesPerIteration(size)
        let label = "\(sizeLabel(size)) x\(repeats)"
        Benchmark("mask/posix \(label)") { benchmark in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            defer { buffer.deallocate() }
            // Offset by one byte: a payload behind a frame header is rarely aligned.
            let unaligned = UnsafeMutableRawBufferPointer(rebasing: buffer[1...])
            unaligned.initializeMemory(as: UInt8.self, repeating: 0x5A)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for _ in 0..<repeats {
                    WebSocketMasking.apply(benchmarkMaskKey, to: unaligned)
                    blackHole(unaligned.baseAddress)
                }
            }
        }
        Benchmark("mask/memcpy \(label)") { benchmark in
            let source = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            defer {
                source.deallocate()
                destination.deallocate()
            }
            source.initializeMemory(as: UInt8.self, repeating: 0x5A)
            destination.initializeMemory(as: UInt8.self, repeating: 0)
            let from = UnsafeRawBufferPointer(rebasing: source[1...])
            let to = UnsafeMutableRawBufferPointer(rebasing: destination[1...])
            guard let fromAddress = from.baseAddress, let toAddress = to.baseAddress else { return }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for _ in 0..<repeats {
                    memcpy(toAddress, fromAddress, from.count)
                    blackHole(toAddress)
                }
            }
        }
        Benchmark("mask/nio \(label)") { benchmark in
            var buffer = ByteBuffer(repeating: 0x5A, count: size - 1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for _ in 0..<repeats {
                    buffer.webSocketMask(nioMaskKey)
                    blackHole(buffer.readableBytes)
                }
            }
        }
    }
}
