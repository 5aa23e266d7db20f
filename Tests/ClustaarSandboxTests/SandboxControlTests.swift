import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// Who holds a conversation is the server's, not a socket's: it is shared by every connection,
/// survives a restart, and an agent can change it from outside (`setControl`), which pushes
/// `control` to the interlocutor's joined channels.
@Suite("Sandbox control state, server-wide")
struct SandboxControlTests {
    typealias W = Wire

    @Test("pure: connections sharing a SandboxControl see each other's take and release")
    func connectionsShareTheControl() {
        let control = SandboxControl()
        var first = SandboxConnection(serializer: .jsonV2, control: control, now: W.now)
        var second = SandboxConnection(serializer: .jsonV2, control: control, now: W.now)
        func send(_ connection: inout SandboxConnection, _ text: String) -> [String] {
            connection.frameReceived(.text(Array(text.utf8)), at: W.now).map(W.render)
        }
        #expect(send(&first, W.join()) == [W.joinOK()])
        #expect(send(&first, W.say("2", text: "take control")).contains(W.control(true)))
        #expect(control.isTaken(interlocutorID: W.interlocutorID))
        // Another socket (a reconnect, another tab) joins and is told.
        #expect(send(&second, W.join("7")) == [W.joinOK("7", control: true)])
        // An agent releases from outside: the joined connection's push carries its join_ref.
        #expect(control.set(interlocutorID: W.interlocutorID, taken: false))
        let push = second.controlPush(interlocutorID: W.interlocutorID, taken: false, at: W.now)
        #expect(
            push.map { W.render(.send($0)) }
                == W.push("control", #"{"at":\#(W.unixSeconds),"value":false}"#, joinRef: "7"))
        #expect(second.controlPush(interlocutorID: "someone-else", taken: true, at: W.now) == nil)
        #expect(send(&first, W.join("9")) == [W.joinOK("9"), W.phxClose("1")])
    }

    @Test("server: setControl pushes control to joined channels, is kept across a restart, and only changes push")
    func setControlFromOutside() async throws {
        let sandbox = try await ClustaarSandboxServer.start()
        defer { Task { await sandbox.shutdown() } }
        let joined = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        let other = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await joined.send(text: W.join("3"))
        #expect(try await joined.nextTexts(1) == [W.joinOK("3")])

        #expect(sandbox.setControl(interlocutorID: W.interlocutorID, taken: true))
        #expect(!sandbox.setControl(interlocutorID: W.interlocutorID, taken: true))  // no change, no push
        #expect(
            try await joined.nextTexts(1).map(SandboxServerTests.withoutTimestamps) == [
                W.push("control", #"{"at":<t>,"value":true}"#, joinRef: "3")
            ])
        // The other socket has no channel of that interlocutor: it got nothing; its join is told.
        try await other.send(text: W.join("1"))
        #expect(try await other.nextTexts(1) == [W.joinOK("1", control: true)])

        try await sandbox.restart()
        #expect(try await joined.next() == .close(code: 1012, reason: ""))
        #expect(sandbox.isControlTaken(interlocutorID: W.interlocutorID))
        let again = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        try await again.send(text: W.join("5"))
        #expect(try await again.nextTexts(1) == [W.joinOK("5", control: true)])
        // The bot is back, from outside: the new connection hears it.
        #expect(sandbox.setControl(interlocutorID: W.interlocutorID, taken: false))
        #expect(
            try await again.nextTexts(1).map(SandboxServerTests.withoutTimestamps) == [
                W.push("control", #"{"at":<t>,"value":false}"#, joinRef: "5")
            ])
        await again.close()
        await sandbox.shutdown()
    }
}
