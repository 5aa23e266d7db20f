import ClustaarSDK
import Foundation
import PhoenixProtocol
import Testing

/// The DocC articles' Swift examples compile (they are `ArticleExamples.swift`) and the
/// state-machine walk-through shows what its text says. The examples that are tests
/// (`theChannelRejoinsAfterADrop`, `theConversationSurvivesADroppedConnection`,
/// `CountingTransportConformanceTests`) run with the other tests.
@Suite struct ArticleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every Markdown file of every catalog, `Sources/<Module>/Documentation.docc/*.md`.
    static func catalogPages() throws -> [URL] {
        let sources = root.appendingPathComponent("Sources")
        let manager = FileManager.default
        var pages: [URL] = []
        for module in try manager.contentsOfDirectory(atPath: sources.path).sorted() {
            let catalog = sources.appendingPathComponent(module).appendingPathComponent("Documentation.docc")
            guard let files = try? manager.contentsOfDirectory(atPath: catalog.path) else { continue }
            pages += files.sorted().filter { $0.hasSuffix(".md") }.map { catalog.appendingPathComponent($0) }
        }
        return pages
    }

    @Test func everySwiftBlockOfEveryArticleIsCompiled() throws {
        let examples = try String(
            contentsOf: Self.root.appendingPathComponent("Tests/ClustaarSDKTests/ArticleExamples.swift"),
            encoding: .utf8)
        let pages = try Self.catalogPages()
        #expect(pages.count >= 19, "expected the catalogs' landing pages and articles, found \(pages.count)")
        var blockCount = 0
        for page in pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            let blocks = text.components(separatedBy: "```swift\n").dropFirst().compactMap {
                $0.components(separatedBy: "```").first
            }
            blockCount += blocks.count
            for block in blocks {
                #expect(
                    examples.contains(block),
                    "\(page.lastPathComponent): block not in ArticleExamples.swift:\n\(block)")
            }
        }
        #expect(blockCount == 22)
    }

    @Test func theStateMachineWalkThroughSendsAJoinThenAHeartbeat() throws {
        let (events, outbox) = try joinByHand()
        #expect(events.count == 2)
        #expect(events.first == .socketOpened)
        guard case .channelJoined(let topic, _) = events.last else {
            Issue.record("expected channelJoined, got \(events)")
            return
        }
        #expect(topic == "room:lobby")
        #expect(
            outbox == [
                .text(Array(#"["1","1","room:lobby","phx_join",{}]"#.utf8)),
                .text(Array(#"[null,"2","phoenix","heartbeat",{}]"#.utf8)),
            ])
    }

    @Test func theRenderingExampleMakesRowsAndButtonEffects() {
        let goTo = GoToAction(target: .step(TargetReference(id: "s1", name: nil)))
        let reply = BotReply(
            fulfillment: Fulfillment(actions: [
                .text(SendTextAction(alternatives: ["Hi"])),
                .wait(WaitAction(duration: 1.5)),
                .jsEvent(SendJSEventAction(event: "open_form")),
                .quickReplies(
                    SendQuickRepliesAction(message: "Pick", buttons: [QuickReply(title: "A", action: .goTo(goTo))])),
            ]))
        #expect(
            rows(for: reply) == [.text("Hi"), .typing(seconds: 1.5), .buttons(message: "Pick", titles: ["A"])])
        #expect(effect(of: .goTo(goTo)) == .send(.goTo(goTo)))
        #expect(effect(of: .openURL(OpenURLAction(url: "https://example.com"))) == .open("https://example.com"))
        #expect(effect(of: .share(ShareAction())) == .none)
    }
}
