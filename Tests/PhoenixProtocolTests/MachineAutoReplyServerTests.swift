import ClustaarTestSupport
import PhoenixProtocol
import Testing

/// The scripted server answers as the recorded Phoenix server does (fixtures, section 6).
@Suite("AutoReplyPhoenixServer")
struct MachineScriptedServerTests {
    private func text(_ frames: [PhoenixFrame]) -> [String] { frames.map(render) }

    private func frame(_ json: String) -> PhoenixFrame { .text(Array(json.utf8)) }

    @Test func answersLikePhoenix() {
        var server = AutoReplyPhoenixServer(
            rejectJoin: { topic, _ in topic == "room:locked" ? #"{"reason":"unauthorized"}"# : nil },
            handle: {
                $0.event == "crash" ? .crash : $0.event == "silent" ? .none : .reply(status: "ok", response: "{}")
            }
        )
        #expect(
            text(server.receive(frame(#"[null,"1","phoenix","heartbeat",{}]"#)))
                == [canonical(ArraySlice(#"[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]"#.utf8))]
        )
        #expect(
            text(server.receive(frame(#"["2","2","room:locked","phx_join",{}]"#)))
                == [
                    canonical(
                        ArraySlice(
                            #"["2","2","room:locked","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}]"#
                                .utf8
                        )
                    )
                ]
        )
        _ = server.receive(frame(#"["3","3","room:a","phx_join",{}]"#))
        // A duplicate join: ok for the new one, then phx_close for the old join ref.
        #expect(
            text(server.receive(frame(#"["4","4","room:a","phx_join",{}]"#))) == [
                canonical(ArraySlice(#"["4","4","room:a","phx_reply",{"status":"ok","response":{}}]"#.utf8)),
                canonical(ArraySlice(#"["3","3","room:a","phx_close",{}]"#.utf8)),
            ]
        )
        #expect(server.receive(frame(#"["4","5","room:a","silent",{}]"#)) == [])
        #expect(
            text(server.receive(frame(#"["4","6","room:a","crash",{}]"#)))
                == [canonical(ArraySlice(#"["4","4","room:a","phx_error",{}]"#.utf8))]
        )
        #expect(
            text(server.receive(frame(#"["4","7","room:a","after",{}]"#))) == [
                canonical(
                    ArraySlice(
                        #"[null,"7","room:a","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
                            .utf8)
                )
            ]
        )
        #expect(server.receive(.binary([9, 9])) == [])
        #expect(server.undecodable == 1)
        #expect(server.received.count == 7)
    }

    @Test func leaveRepliesThenCloses() {
        var server = AutoReplyPhoenixServer()
        _ = server.receive(frame(#"["1","1","room:a","phx_join",{}]"#))
        #expect(
            text(server.receive(frame(#"["1","2","room:a","phx_leave",{}]"#))) == [
                canonical(ArraySlice(#"["1","2","room:a","phx_reply",{"status":"ok","response":{}}]"#.utf8)),
                canonical(ArraySlice(#"["1","1","room:a","phx_close",{}]"#.utf8)),
            ]
        )
        #expect(server.joinRefs.isEmpty)
        #expect(server.push(topic: "room:a", event: "e", payload: "{}") == nil)
    }
}
