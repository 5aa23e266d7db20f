import ClustaarModels
import Testing

/// The reply envelope rule (protocol §4), case by case.
@Suite("Reply envelope")
struct EnvelopeTests {
    func content(_ json: String) throws -> EnvelopeContent<JSONValue> {
        try ClustaarEnvelope.decode(JSONValue.self, from: ArraySlice(json.utf8))
    }

    let reply = #"{"fulfillment":{"actions":[{"type":"wait_action","duration":3}]}}"#

    @Test func theThreeFormsGiveTheSameReply() throws {
        let expected = BotReply(fulfillment: Fulfillment(actions: [.wait(WaitAction(duration: 3))]))
        for json in [reply, #"{"body":\#(reply)}"#, #"{"status":200,"body":{"data":\#(reply)}}"#] {
            #expect(try ClustaarEnvelope.decode(BotReply.self, from: ArraySlice(json.utf8)) == .value(expected))
        }
    }

    @Test func withoutStatusBodyIsUsedOnlyWhenTruthy() throws {
        #expect(try content(#"{"body":{}}"#) == .value([:]))
        #expect(try content(#"{"body":[]}"#) == .value([]))
        #expect(try content(#"{"body":"x"}"#) == .value("x"))
        #expect(try content(#"{"body":1}"#) == .value(1))
        #expect(try content(#"{"body":true}"#) == .value(true))
        for falsy in ["null", "false", "0", "0.0", #""""#] {
            let json = #"{"body":\#(falsy),"k":1}"#
            let whole = try ClustaarJSON.decode(JSONValue.self, from: ArraySlice(json.utf8))
            #expect(try content(json) == .value(whole), "body \(falsy)")
        }
        #expect(try content(#"{"k":1}"#) == .value(["k": 1]))
    }

    @Test func status200IsStrictlyTheNumber() throws {
        #expect(try content(#"{"status":200,"body":{"data":{"a":1}}}"#) == .value(["a": 1]))
        #expect(try content(#"{"status":200.0,"body":{"data":{"a":1}}}"#) == .value(["a": 1]))
        #expect(
            try content(#"{"status":"200","body":{"data":{"a":1}}}"#)
                == .serverError(ClustaarServerError(status: "200", error: nil))
        )
        #expect(
            try content(#"{"status":201,"body":{"error":"nope"}}"#)
                == .serverError(ClustaarServerError(status: 201, error: "nope"))
        )
        #expect(
            try content(#"{"status":null,"body":{"error":{"code":7}}}"#)
                == .serverError(ClustaarServerError(status: nil, error: ["code": 7]))
        )
        #expect(try content(#"{"status":500}"#) == .serverError(ClustaarServerError(status: 500, error: nil)))
        #expect(
            try content(#"{"status":500,"body":"oops"}"#) == .serverError(ClustaarServerError(status: 500, error: nil)))
    }

    @Test func status200WithNullDataIsADecodeError() throws {
        let error = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarEnvelope.decode(BotReply.self, from: ArraySlice(#"{"status":200,"body":{"data":null}}"#.utf8))
        }
        #expect(error.kind == .missingValue)
        #expect(error.path == "body.data")
        let noBody = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarEnvelope.decode(BotReply.self, from: ArraySlice(#"{"status":200}"#.utf8))
        }
        #expect(noBody.path == "body")
    }

    @Test func resultView() throws {
        let error = ClustaarServerError(status: 422, error: "bad")
        #expect(EnvelopeContent<Int>.serverError(error).result == .failure(error))
        #expect(EnvelopeContent<Int>.value(3).result == .success(3))
        #expect(EnvelopeContent<Int>.serverError(error).value == nil)
        #expect(error.description == #"server error (status 422): "bad""#)
    }
}
