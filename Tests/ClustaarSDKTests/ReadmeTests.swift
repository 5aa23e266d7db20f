import Foundation
import PhoenixProtocol
import Testing

/// The README's Swift examples compile (they are `ReadmeExamples.swift`) and one of them runs.
@Suite struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everySwiftBlockOfTheReadmeIsCompiled() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let examples = try String(
            contentsOf: Self.root.appendingPathComponent("Tests/ClustaarSDKTests/ReadmeExamples.swift"),
            encoding: .utf8)
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().compactMap {
            $0.components(separatedBy: "```").first
        }
        #expect(blocks.count == 6)
        for block in blocks {
            #expect(examples.contains(block), "README block not in ReadmeExamples.swift:\n\(block)")
        }
    }

    @Test func theTestingExampleRuns() async throws {
        let reply = try #require(try await joinAndReceive())
        guard case .text(let text) = reply.actions.first else {
            Issue.record("expected a text action")
            return
        }
        #expect(text.displayText == "Hi")
    }

    @Test func thePhoenixExampleRuns() throws {
        let reply = try phoenixFrames()
        #expect(reply.kind == .reply(status: "ok"))
    }
}
