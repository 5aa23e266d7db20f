// The clients of suite 5 behind the same three measurements: the SDK over each transport (and
// over POSIXTransport with a subscriber, awaited pushes only),
// the floor (the transport alone, frames by hand) over each transport, and the Python anchor.
import ClustaarModels
import ClustaarSDK
import ClustaarSandbox
import Foundation
import Synchronization
import TransportCore
import TransportLWS
import TransportPOSIX

struct WholePathFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The one conversation every client has: the same ids, token and text.
enum WholePathScript {
    static let botID = "bench-bot"
    static let interlocutorID = "bench-interlocutor"
    static let socketToken = "bench-socket-token"
    static let botToken = "bench-token"
    static let text = "hello"
}

/// Marks where the measured part of an iteration starts and stops (the benchmark tool's
/// `startMeasurement`/`stopMeasurement`: wall clock and malloc counts), so that connecting,
/// joining and warming up are not counted.
struct MeasuredRegion: Sendable {
    var start: @Sendable () -> Void = {}
    var stop: @Sendable () -> Void = {}
}

/// The sandbox every client of this process talks to, started on first use.
enum SandboxOnce {
    private static let shared = Mutex<Task<ClustaarSandboxServer, any Error>?>(nil)

    static func running() async throws -> ClustaarSandboxServer {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0) }
            task = started
            return started
        }
        return try await task.value
    }
}

enum WholePathClient: String, CaseIterable {
    case sdkPOSIX = "sdk-posix"
    case sdkLWS = "sdk-lws"
    /// The SDK over POSIXTransport with one task reading the channel's `events` all along: what
    /// an app with a chat view pays (the rows above have no subscriber). Awaited pushes only.
    case sdkSubscribed = "sdk-posix-subscribed"
    case floorPOSIX = "floor-posix"
    case floorLWS = "floor-lws"
    case python

    var transport: any Transport {
        switch self {
        case .sdkPOSIX, .sdkSubscribed, .floorPOSIX, .python: POSIXTransport()
        case .sdkLWS, .floorLWS: LWSTransport()
        }
    }

    /// Round trips of `count` pushes awaited one at a time (after `warmup` unmeasured ones), in ns.
    func awaited(port: Int, warmup: Int, count: Int, region: MeasuredRegion) async throws -> [Int] {
        let clock = ContinuousClock()
        var samples: [Int] = []
        samples.reserveCapacity(count)
        switch self {
        case .sdkPOSIX, .sdkLWS, .sdkSubscribed:
            try await SDKLink.with(transport, port: port, subscribed: self == .sdkSubscribed) { link in
                for index in 0..<(warmup + count) {
                    if index == warmup { region.start() }
                    let start = clock.now
                    try await link.push()
                    if index >= warmup { samples.append(nanoseconds(start.duration(to: clock.now))) }
                }
                region.stop()
            }
        case .floorPOSIX, .floorLWS:
            try await FloorLink.with(transport, port: port) { link in
                try await link.join()
                for index in 0..<(warmup + count) {
                    if index == warmup { region.start() }
                    let start = clock.now
                    try await link.untilReply(try await link.push())
                    if index >= warmup { samples.append(nanoseconds(start.duration(to: clock.now))) }
                }
                region.stop()
            }
        case .python:
            // Timed by the script itself (`processMetrics`: no malloc count).
            samples = try await PythonAnchor.run(port: port, ["awaited", "\(count)", "\(warmup)"]).samples
        }
        return samples
    }

    /// Seconds to get `count` pushes acknowledged with `window` of them in flight (after 100
    /// unmeasured awaited ones).
    func inFlight(port: Int, count: Int, window: Int, region: MeasuredRegion) async throws -> Double {
        let clock = ContinuousClock()
        switch self {
        case .sdkPOSIX, .sdkLWS, .sdkSubscribed:
            return try await SDKLink.with(transport, port: port, subscribed: self == .sdkSubscribed) { link in
                for _ in 0..<100 { try await link.push() }
                region.start()
                let start = clock.now
                // `window` tasks, each awaiting its pushes one after the other: how an app keeps
                // many `sendReply` calls in flight.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for lane in 0..<window {
                        let share = count / window + (lane < count % window ? 1 : 0)
                        group.addTask {
                            for _ in 0..<share { try await link.push() }
                        }
                    }
                    try await group.waitForAll()
                }
                let seconds = seconds(start.duration(to: clock.now))
                region.stop()
                return seconds
            }
        case .floorPOSIX, .floorLWS:
            return try await FloorLink.with(transport, port: port) { link in
                try await link.join()
                for _ in 0..<100 { try await link.untilReply(try await link.push()) }
                region.start()
                let start = clock.now
                var sent = 0
                var acknowledged = 0
                while sent < min(window, count) {
                    try await link.push()
                    sent += 1
                }
                while acknowledged < count {
                    guard try await link.next().event == .reply else { continue }
                    acknowledged += 1
                    if sent < count {
                        try await link.push()
                        sent += 1
                    }
                }
                let seconds = seconds(start.duration(to: clock.now))
                region.stop()
                return seconds
            }
        case .python:
            return try await PythonAnchor.run(port: port, ["inflight", "\(count)", "\(window)"]).seconds
        }
    }

    /// Times of `count` fresh sessions from nothing to the first bot reply: connect, join, send
    /// one text, receive the bot's answer. In ns.
    func firstBotReply(port: Int, count: Int) async throws -> [Int] {
        let clock = ContinuousClock()
        var samples: [Int] = []
        switch self {
        case .sdkPOSIX, .sdkLWS, .sdkSubscribed:
            for _ in 0..<count {
                let start = clock.now
                let service = try SDKLink.service(transport, port: port)
                let channel = SDKLink.channel(of: service)
                var replies = channel.botReplies.makeAsyncIterator()
                try await service.connect()
                try await channel.join()
                try await channel.sendReply(token: WholePathScript.botToken, .text(WholePathScript.text))
                guard await replies.next() != nil else { throw WholePathFailure("no bot reply") }
                samples.append(nanoseconds(start.duration(to: clock.now)))
                await service.disconnect()
            }
        case .floorPOSIX, .floorLWS:
            for _ in 0..<count {
                let start = clock.now
                let elapsed = try await FloorLink.with(transport, port: port) { link in
                    try await link.join()
                    try await link.push()
                    try await link.untilBotReply()
                    return nanoseconds(start.duration(to: clock.now))
                }
                samples.append(elapsed)
            }
        case .python:
            samples = try await PythonAnchor.run(port: port, ["connect", "\(count)"]).samples
        }
        return samples
    }
}

/// A joined `InterlocutorChannel` of a connected `ClustaarWebChatService`.
struct SDKLink: Sendable {
    let channel: InterlocutorChannel

    /// One `sendReply`, awaited until its `phx_reply`.
    func push() async throws {
        try await channel.sendReply(token: WholePathScript.botToken, .text(WholePathScript.text))
    }

    static func service(_ transport: any Transport, port: Int) throws -> ClustaarWebChatService {
        guard let url = URL(string: "ws://127.0.0.1:\(port)/socket") else { throw WholePathFailure("bad URL") }
        return try ClustaarWebChatService(environment: url, transport: transport)
    }

    static func channel(of service: ClustaarWebChatService) -> InterlocutorChannel {
        service.interlocutorChannel(
            botID: WholePathScript.botID, interlocutorID: WholePathScript.interlocutorID,
            socketToken: WholePathScript.socketToken)
    }

    /// Runs `body` with a connected service and a joined channel; disconnects afterwards.
    /// `subscribed`: a task reads every event of the channel's `events` meanwhile.
    static func with<Result: Sendable>(
        _ transport: any Transport, port: Int, subscribed: Bool = false, _ body: (SDKLink) async throws -> Result
    ) async throws -> Result {
        let service = try service(transport, port: port)
        let channel = channel(of: service)
        let events = subscribed ? channel.events : nil
        let reader = Task {
            var count = 0
            if let events { for await _ in events { count += 1 } }
            return count
        }
        do {
            try await service.connect()
            try await channel.join()
            let result = try await body(SDKLink(channel: channel))
            await service.disconnect()
            // joined, an echo and a bot reply per push, closed: the subscriber saw them all.
            if subscribed, await reader.value < 2 { throw WholePathFailure("the subscriber saw no events") }
            return result
        } catch {
            await service.disconnect()
            reader.cancel()
            throw error
        }
    }
}

func nanoseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
}

func seconds(_ duration: Duration) -> Double { Double(nanoseconds(duration)) / 1e9 }

/// The `fraction` percentile of `samples` (nearest rank); 0 for no samples.
func percentile(_ samples: [Int], _ fraction: Double) -> Int {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
