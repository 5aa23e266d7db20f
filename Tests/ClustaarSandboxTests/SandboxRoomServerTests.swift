import ClustaarModels
import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// `room:*` over real sockets: two clients (one on each serializer) in one room see each
/// other's joins, shouts and leaves, with Phoenix.Presence's exact payload shapes.
@Suite struct SandboxRoomServerTests {
    /// Renders received frames as `join_ref ref topic event payload`, with each `phx_ref` shown as
    /// `R<n>` (first seen, first numbered) and `online_at` as `T`, after checking their format.
    final class Renderer {
        var refs: [String: String] = [:]

        func render(_ text: String, _ serializer: PhoenixSerializer) throws -> String {
            let message = try serializer.decode(.text(Array(text.utf8)), from: .server)
            let payload = try normalized(try ClustaarJSON.decode(JSONValue.self, from: message.payload.bytes))
            let event =
                switch message.kind {
                case .event(let name): name
                case .reply(let status): "reply \(status)"
                }
            return "\(message.joinRef ?? "-") \(message.ref ?? "-") \(message.topic) \(event) \(payload)"
        }

        private func normalized(_ value: JSONValue) throws -> JSONValue {
            switch value {
            case .object(var object):
                for index in object.members.indices {
                    let member = object.members[index]
                    switch (member.key, member.value) {
                    case ("phx_ref", .string(let ref)), ("phx_ref_prev", .string(let ref)):
                        #expect(ref.count == 16)
                        #expect(ref.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
                        if refs[ref] == nil { refs[ref] = "R\(refs.count + 1)" }
                        object.members[index].value = .string(refs[ref] ?? "?")
                    case ("online_at", .string(let seconds)):
                        #expect(Int(seconds) != nil)
                        object.members[index].value = "T"
                    default:
                        object.members[index].value = try normalized(member.value)
                    }
                }
                return .object(object)
            case .array(let elements):
                return .array(try elements.map(normalized))
            default:
                return value
            }
        }
    }

    @Test func twoClientsInOneRoomSeeEachOtherJoinShoutAndLeave() async throws {
        // A client waits idle while the other acts: no idle close, however slow the machine.
        let sandbox = try await ClustaarSandboxServer.start(
            configuration: SandboxConfiguration(idleTimeout: .seconds(3600)))
        defer { Task { await sandbox.shutdown() } }
        let renderer = Renderer()
        let alice = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=2.0.0")
        let bob = try await TestWebSocketClient.connect(port: sandbox.port, query: "vsn=1.0.0")
        func received(_ client: TestWebSocketClient, _ count: Int, _ serializer: PhoenixSerializer) async throws
            -> [String]
        {
            try await client.nextTexts(count).map { try renderer.render($0, serializer) }
        }
        let aliceMeta = #"{"device":"phone","online_at":"T","phx_ref":"R1"}"#
        let bobMeta = #"{"online_at":"T","phx_ref":"R2"}"#

        try await alice.send(text: #"["1","1","room:lobby","phx_join",{"user":"alice","meta":{"device":"phone"}}]"#)
        #expect(
            try await received(alice, 3, .jsonV2) == [
                "1 1 room:lobby reply ok {}",
                #"- - room:lobby presence_diff {"joins":{"alice":{"metas":[\#(aliceMeta)]}},"leaves":{}}"#,
                #"1 - room:lobby presence_state {"alice":{"metas":[\#(aliceMeta)]}}"#,
            ])

        // v1: the server's messages carry no join_ref.
        try await bob.send(text: #"{"topic":"room:lobby","event":"phx_join","payload":{"user":"bob"},"ref":"5"}"#)
        #expect(
            try await received(bob, 3, .jsonV1) == [
                "- 5 room:lobby reply ok {}",
                #"- - room:lobby presence_diff {"joins":{"bob":{"metas":[\#(bobMeta)]}},"leaves":{}}"#,
                #"- - room:lobby presence_state {"alice":{"metas":[\#(aliceMeta)]},"bob":{"metas":[\#(bobMeta)]}}"#,
            ])
        #expect(
            try await received(alice, 1, .jsonV2) == [
                #"- - room:lobby presence_diff {"joins":{"bob":{"metas":[\#(bobMeta)]}},"leaves":{}}"#
            ])

        try await bob.send(text: #"{"topic":"room:lobby","event":"shout","payload":{"body":"hi all"},"ref":"6"}"#)
        let shout = #"- - room:lobby shout {"body":"hi all","user":"bob"}"#
        #expect(try await received(bob, 2, .jsonV1) == [shout, "- 6 room:lobby reply ok {}"])
        #expect(try await received(alice, 1, .jsonV2) == [shout])

        try await alice.send(text: #"["1","2","room:lobby","phx_leave",{}]"#)
        #expect(try await received(alice, 2, .jsonV2) == ["1 2 room:lobby reply ok {}", "1 1 room:lobby phx_close {}"])
        #expect(
            try await received(bob, 1, .jsonV1) == [
                #"- - room:lobby presence_diff {"joins":{},"leaves":{"alice":{"metas":[\#(aliceMeta)]}}}"#
            ])

        // Alice joins again, then her socket drops: Bob sees her come and go.
        try await alice.send(text: #"["3","3","room:lobby","phx_join",{"user":"alice"}]"#)
        #expect(try await received(alice, 3, .jsonV2).first == "3 3 room:lobby reply ok {}")
        let aliceAgain = #"{"online_at":"T","phx_ref":"R3"}"#
        #expect(
            try await received(bob, 1, .jsonV1) == [
                #"- - room:lobby presence_diff {"joins":{"alice":{"metas":[\#(aliceAgain)]}},"leaves":{}}"#
            ])
        await alice.close()
        #expect(
            try await received(bob, 1, .jsonV1) == [
                #"- - room:lobby presence_diff {"joins":{},"leaves":{"alice":{"metas":[\#(aliceAgain)]}}}"#
            ])
        await bob.close()
    }
}
