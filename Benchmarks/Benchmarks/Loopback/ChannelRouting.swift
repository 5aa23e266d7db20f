// 10,000 joined channels on one socket: memory per joined channel and the cost of routing one
// inbound message to its channel, measured on `PhoenixSocketStateMachine` (where routing
// happens: decode, look the topic up, check the join ref, emit), 10,000 joined vs 1.
import Benchmark
import PhoenixProtocol

let joinedChannelCounts = [1, 10_000]
let routedMessagesPerIteration = 1000
let rssPerJoinedChannel = BenchmarkMetric.custom(
    "RSS per joined channel (B)", polarity: .prefersSmaller, useScalingFactor: false)

/// A machine with `count` channels ("room:0"...), all joined: connect, open, and an ok reply
/// to every join it sent.
func machineWithJoinedChannels(_ count: Int) throws -> PhoenixSocketStateMachine {
    let configuration = try PhoenixSocketConfiguration(endpoint: "ws://127.0.0.1:4000/socket")
    var machine = PhoenixSocketStateMachine(configuration: configuration)
    _ = machine.connect(now: .zero)
    for index in 0..<count { _ = try machine.join(topic: "room:\(index)", now: .zero) }
    for action in machine.transportOpened(now: .zero) {
        guard case .send(let frame) = action else { continue }
        let join = try configuration.serializer.decode(frame, from: .client)
        let reply = PhoenixMessage.reply(
            joinRef: join.joinRef, ref: join.ref, topic: join.topic, status: "ok", response: .emptyObject)
        _ = machine.frameReceived(try configuration.serializer.encode(reply, from: .server), now: .zero)
    }
    let joined = (0..<count).filter {
        if case .joined = machine.channelState(topic: "room:\($0)") { return true }
        return false
    }
    guard joined.count == count else {
        throw EchoFailure(description: "\(joined.count) of \(count) channels joined")
    }
    return machine
}

/// Server broadcasts (v2 JSON, no join ref) spread over the first `channels` topics.
func broadcastFrames(channels: Int, count: Int) -> [PhoenixFrame] {
    (0..<count).map { index in
        let topic = "room:\((index &* 7919) % channels)"
        return .text(Array(#"[null,null,"\#(topic)","new_msg",{"body":"hello","n":\#(index)}]"#.utf8))
    }
}

func registerChannelBenchmarks() {
    for channels in joinedChannelCounts {
        let frames = broadcastFrames(channels: channels, count: routedMessagesPerIteration)
        Benchmark(
            "channels/route \(channels) joined x\(routedMessagesPerIteration)",
            configuration: .init(
                metrics: [.wallClock, .throughput, .mallocCountTotal],
                warmupIterations: 3,
                maxDuration: .seconds(2),
                maxIterations: 10_000
            )
        ) { benchmark in
            do {
                var machine = try machineWithJoinedChannels(channels)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    var delivered = 0
                    for frame in frames {
                        for action in machine.frameReceived(frame, now: .zero) {
                            if case .emit(.message) = action { delivered += 1 }
                        }
                    }
                    // Every message must reach its channel, or the figure means nothing.
                    if delivered != frames.count {
                        benchmark.error("\(delivered) of \(frames.count) messages routed")
                        return
                    }
                    blackHole(delivered)
                }
            } catch {
                benchmark.error("joining \(channels) channels failed: \(error)")
            }
        }
    }
    Benchmark(
        "channels/join 10000",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal, rssPerJoinedChannel],
            warmupIterations: 0,
            maxDuration: .seconds(60),
            maxIterations: 1
        )
    ) { benchmark in
        do {
            blackHole(try machineWithJoinedChannels(1))  // one-time set-up out of the figure
            let before = try ProcessStatus.current()
            benchmark.startMeasurement()
            let machine = try machineWithJoinedChannels(10_000)
            benchmark.stopMeasurement()
            let after = try ProcessStatus.current()
            benchmark.measurement(rssPerJoinedChannel, (after.residentBytes - before.residentBytes) / 10_000)
            blackHole(machine.channelCount)
        } catch {
            benchmark.error("joining 10000 channels failed: \(error)")
        }
    }
}
