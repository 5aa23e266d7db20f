// clustaar-soak: a bounded soak of the SDK against the in-process sandbox.
//
// One conversation runs for the whole time while the sandbox drops every socket (or restarts)
// at a fixed period, and short-lived services come and go beside it. Resident memory (VmRSS)
// and open file descriptors are printed at the start, every minute and at the end; the run
// fails (exit 1) when, after the warm-up, they grew beyond the stated allowance, or when the
// conversation stopped making progress. Real time is the point here, so this waits on the
// wall clock, unlike the tests.
import ArgumentParser
import ClustaarSDK
import ClustaarSandbox
import Foundation
import PhoenixProtocol
import TransportLWS
import TransportPOSIX

@main
struct ClustaarSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustaar-soak",
        abstract: "Keeps a conversation going against the in-process sandbox, with reconnects, and checks "
            + "that memory and file descriptors do not grow."
    )

    enum TransportKind: String, ExpressibleByArgument, CaseIterable {
        case posix, lws
    }

    @Option(help: "How long to run, in seconds.")
    var seconds: Int = 600

    @Option(help: "The transport: posix or lws.")
    var transport: TransportKind = .posix

    @Option(help: "Seconds between forced reconnects (the sandbox closes every socket, or restarts).")
    var reconnectEvery: Int = 10

    @Option(help: "Seconds of warm-up before the baseline is taken (default: a fifth of the run, at most 60).")
    var warmUp: Int?

    @Option(name: .customLong("rss-allowance-kib"), help: "How much VmRSS may grow past the baseline, in KiB.")
    var rssAllowanceKiB: Int = 16 * 1024

    @Option(help: "How many open file descriptors may be added to the baseline.")
    var fdAllowance: Int = 4

    @Option(help: "Milliseconds between two messages of the conversation.")
    var pace: Int = 50

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be at least 1") }
        guard reconnectEvery > 0 else { throw ValidationError("--reconnect-every must be at least 1") }
        guard pace >= 0 else { throw ValidationError("--pace must not be negative") }
        if let warmUp, warmUp < 0 || warmUp >= seconds {
            throw ValidationError("--warm-up must be in 0..<seconds")
        }
    }

    func run() async throws {
        let warmUpSeconds = warmUp ?? min(60, seconds / 5)
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        let soak = Soak(sandbox: sandbox, transport: transport, pace: .milliseconds(pace))
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .seconds(seconds))
        let baselineAt = start.advanced(by: .seconds(warmUpSeconds))

        say(
            "soak: \(seconds) s on \(transport.rawValue), a reconnect every \(reconnectEvery) s, warm-up "
                + "\(warmUpSeconds) s; allowance after warm-up: VmRSS +\(rssAllowanceKiB) KiB, fds +\(fdAllowance)")
        let startSample = ResourceSample.now()
        report("start", elapsed: .zero, sample: startSample, soak: soak)

        // The work goes on a little past the deadline, so the end figures are taken while it runs,
        // like the baseline.
        let workEnd = deadline.advanced(by: .seconds(3))
        let conversation = Task { await soak.converse(until: workEnd) }
        let churn = Task { await soak.churnServices(until: workEnd) }

        var baseline: ResourceSample?
        var nextReport = start.advanced(by: .seconds(60))
        var nextReconnect = start.advanced(by: .seconds(reconnectEvery))
        var restartNext = false
        while clock.now < deadline {
            let wake = min(nextReport, nextReconnect, deadline, baselineAt > clock.now ? baselineAt : deadline)
            try? await clock.sleep(until: wake)
            if baseline == nil, clock.now >= baselineAt {
                baseline = await soak.quiescentSample()
                report("baseline", elapsed: start.duration(to: clock.now), sample: baseline, soak: soak)
            }
            if clock.now >= nextReconnect, clock.now < deadline {
                await soak.forceReconnect(restart: restartNext)
                restartNext.toggle()
                nextReconnect = clock.now.advanced(by: .seconds(reconnectEvery))
            }
            if clock.now >= nextReport, clock.now < deadline {
                let sample = await soak.quiescentSample()
                report("minute", elapsed: start.duration(to: clock.now), sample: sample, soak: soak)
                nextReport = nextReport.advanced(by: .seconds(60))
            }
        }
        let end = await soak.quiescentSample()
        report("end", elapsed: start.duration(to: clock.now), sample: end, soak: soak)
        await conversation.value
        await churn.value
        await soak.finish()
        // Every service disconnected and the sandbox shut down: back to the start's descriptors.
        let teardown = ResourceSample.now()
        report("teardown", elapsed: start.duration(to: clock.now), sample: teardown, soak: soak)

        var failures: [String] = []
        if let baseline {
            let rssGrowth = end.rssKiB - baseline.rssKiB
            let fdGrowth = end.openFiles - baseline.openFiles
            say("soak: growth since the baseline: VmRSS \(signed(rssGrowth)) KiB, fds \(signed(fdGrowth))")
            if rssGrowth > rssAllowanceKiB {
                failures.append("VmRSS grew by \(rssGrowth) KiB (allowance \(rssAllowanceKiB) KiB)")
            }
            if fdGrowth > fdAllowance { failures.append("open fds grew by \(fdGrowth) (allowance \(fdAllowance))") }
        }
        if teardown.openFiles > startSample.openFiles + fdAllowance {
            failures.append(
                "\(teardown.openFiles) fds open after teardown, \(startSample.openFiles) at the start "
                    + "(allowance \(fdAllowance))")
        }
        failures += soak.counters.withLock { $0.stalls(seconds: seconds, reconnectEvery: reconnectEvery) }
        if failures.isEmpty {
            say("soak: PASS")
        } else {
            for failure in failures { say("soak: FAIL: \(failure)") }
            throw ExitCode.failure
        }
    }

    private func report(_ label: String, elapsed: Duration, sample: ResourceSample? = nil, soak: Soak) {
        let sample = sample ?? ResourceSample.now()
        let counts = soak.counters.withLock { $0 }
        let seconds = elapsed.components.seconds
        say(
            "soak \(label) t=\(seconds)s rss=\(sample.rssKiB)KiB fds=\(sample.openFiles) sent=\(counts.acknowledged) "
                + "replies=\(counts.replies) failedSends=\(counts.failedSends) missingReplies=\(counts.missingReplies) "
                + "reconnects=\(counts.forcedReconnects) services=\(counts.servicesOpened)")
    }

    private func signed(_ value: Int) -> String { value >= 0 ? "+\(value)" : "\(value)" }
}

/// Writes one line to standard output at once (unbuffered, also into a file or a pipe), so the
/// minute reports show as they happen.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// VmRSS and the number of open file descriptors of this process, from /proc.
struct ResourceSample: Sendable {
    var rssKiB: Int
    var openFiles: Int

    static func now() -> ResourceSample {
        ResourceSample(rssKiB: residentKiB() ?? -1, openFiles: openFileCount() ?? -1)
    }

    private static func residentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    private static func openFileCount() -> Int? {
        // The listing itself opens one descriptor; it is counted every time, so it cancels out.
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count
    }
}

/// What the soak has done so far.
struct SoakCounters: Sendable {
    var acknowledged = 0
    var replies = 0
    var failedSends = 0
    var missingReplies = 0
    var forcedReconnects = 0
    var servicesOpened = 0
    var serviceFailures = 0

    /// Reasons to fail other than growth: a conversation that (nearly) stopped.
    func stalls(seconds: Int, reconnectEvery: Int) -> [String] {
        var reasons: [String] = []
        // Every reconnect may cost a message or two; far more lost than that is a stall.
        let expectedLosses = 3 * (forcedReconnects + 1)
        if missingReplies > expectedLosses {
            reasons.append("\(missingReplies) acknowledged messages got no bot reply (tolerated: \(expectedLosses))")
        }
        if acknowledged < seconds {
            reasons.append("only \(acknowledged) messages acknowledged in \(seconds) s")
        }
        if servicesOpened > 0, serviceFailures * 10 > servicesOpened {
            reasons.append("\(serviceFailures) of \(servicesOpened) short-lived services failed")
        }
        return reasons
    }
}

/// The sandbox, the long conversation, and the short-lived services.
final class Soak: Sendable {
    let sandbox: ClustaarSandboxServer
    let transport: ClustaarSoak.TransportKind
    let pace: Duration
    let counters = Locked(SoakCounters())
    private let quiet = Locked(0)  // > 0 while a short-lived service is open

    static let botToken = "soak-bot-token"
    static let replyWait: Duration = .seconds(5)

    init(sandbox: ClustaarSandboxServer, transport: ClustaarSoak.TransportKind, pace: Duration) {
        self.sandbox = sandbox
        self.transport = transport
        self.pace = pace
    }

    func makeService() throws -> ClustaarWebChatService {
        var configuration = ClustaarWebChatService.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(20), .milliseconds(100)])
        configuration.rejoinDelays = [.milliseconds(20), .milliseconds(100)]
        configuration.pushTimeout = .seconds(5)
        configuration.joinTimeout = .seconds(5)
        let chosen: any Transport =
            switch transport {
            case .posix: POSIXTransport()
            case .lws: LWSTransport()
            }
        return try ClustaarWebChatService(environment: sandbox.url, transport: chosen, configuration: configuration)
    }

    /// The long conversation: say something, wait for the bot's echo, again, until the deadline.
    func converse(until deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        do {
            let service = try makeService()
            while (try? await service.connect()) == nil, clock.now < deadline {
                try? await clock.sleep(for: .milliseconds(100))
            }
            let channel = service.interlocutorChannel(
                botID: "soak-bot", interlocutorID: "soak-interlocutor", socketToken: "soak-socket-token")
            let replies = ReplyInbox(channel.botReplies)
            while (try? await channel.join()) == nil, clock.now < deadline {
                try? await clock.sleep(for: .milliseconds(100))
            }
            var number = 0
            while clock.now < deadline {
                number += 1
                let text = "soak \(number)"
                do {
                    try await channel.sendReply(token: Self.botToken, .text(text))
                    counters.withLock { $0.acknowledged += 1 }
                    if await replies.wait(for: "Echo: \(text)", within: Self.replyWait) {
                        counters.withLock { $0.replies += 1 }
                    } else {
                        counters.withLock { $0.missingReplies += 1 }
                    }
                } catch {
                    // A reconnect in progress: `.outcomeUnknown`, `.notJoined`... The channel rejoins
                    // by itself; a rejected join (which should never happen here) is joined again.
                    counters.withLock { $0.failedSends += 1 }
                    if await !channel.isJoined, await service.isConnected { _ = try? await channel.join() }
                    try? await clock.sleep(for: .milliseconds(50))
                }
                try? await clock.sleep(for: pace)
            }
            await channel.leave()
            await service.disconnect()
            replies.stop()
        } catch {
            say("soak: the conversation could not start: \(error)")
        }
    }

    /// Services that connect, join, exchange one message and disconnect, over and over: a leak
    /// per service (a socket, a thread, a task) shows up in the figures.
    func churnServices(until deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        var number = 0
        while clock.now < deadline {
            number += 1
            quiet.withLock { $0 += 1 }
            let succeeded = await oneShortService(number: number)
            quiet.withLock { $0 -= 1 }
            counters.withLock {
                $0.servicesOpened += 1
                if !succeeded { $0.serviceFailures += 1 }
            }
            try? await clock.sleep(for: .milliseconds(500))
        }
    }

    private func oneShortService(number: Int) async -> Bool {
        guard let service = try? makeService() else { return false }
        do {
            try await service.connect()
            let channel = service.interlocutorChannel(
                botID: "soak-bot", interlocutorID: "soak-short-\(number % 8)", socketToken: "soak-socket-token")
            let replies = ReplyInbox(channel.botReplies)
            try await channel.join()
            try await channel.sendReply(token: Self.botToken, .text("short \(number)"))
            let answered = await replies.wait(for: "Echo: short \(number)", within: Self.replyWait)
            await channel.leave()
            await service.disconnect()
            replies.stop()
            return answered
        } catch {
            await service.disconnect()
            return false
        }
    }

    func forceReconnect(restart: Bool) async {
        if restart {
            try? await sandbox.restart()
        } else {
            await sandbox.closeAllConnections(code: 1000, reason: "soak")
        }
        counters.withLock { $0.forcedReconnects += 1 }
    }

    /// A sample taken while no short-lived service is open, so their sockets are not counted.
    func quiescentSample() async -> ResourceSample {
        let clock = ContinuousClock()
        let giveUp = clock.now.advanced(by: .seconds(5))
        while quiet.withLock({ $0 }) > 0, clock.now < giveUp {
            try? await clock.sleep(for: .milliseconds(5))
        }
        return ResourceSample.now()
    }

    func finish() async {
        await sandbox.shutdown()
    }
}

/// Collects a channel's bot reply texts as they come, so a waiter can look for one.
final class ReplyInbox: Sendable {
    private let texts = Locked<[String]>([])
    private let reader: Task<Void, Never>

    init(_ stream: AsyncStream<BotReply>) {
        let texts = texts
        reader = Task {
            for await reply in stream {
                for action in reply.actions {
                    if case .text(let text) = action, let shown = text.displayText {
                        texts.withLock { $0.append(shown) }
                    }
                }
            }
        }
    }

    /// Whether `text` arrived within `limit`; it and every text before it are consumed.
    func wait(for text: String, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let giveUp = clock.now.advanced(by: limit)
        while clock.now < giveUp {
            let found = texts.withLock { received -> Bool in
                guard let index = received.firstIndex(of: text) else { return false }
                received.removeFirst(index + 1)
                return true
            }
            if found { return true }
            try? await clock.sleep(for: .milliseconds(10))
        }
        return false
    }

    func stop() { reader.cancel() }
}
