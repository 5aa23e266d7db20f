import ClustaarModels
import Foundation
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    func parse(_ json: String) throws -> JSONValue {
        try ClustaarJSON.decode(JSONValue.self, from: ArraySlice(json.utf8))
    }

    func text(_ value: JSONValue) throws -> String {
        String(decoding: try ClustaarJSON.encode(value), as: UTF8.self)
    }

    @Test func everyKindDecodes() throws {
        let value = try parse(#"{"n":null,"t":true,"f":false,"i":-3,"d":2.5,"s":"é\n\"","a":[1,"x",[]],"o":{}}"#)
        #expect(
            value == [
                "n": nil, "t": true, "f": false, "i": -3, "d": 2.5, "s": "é\n\"", "a": [1, "x", []], "o": [:],
            ]
        )
    }

    @Test func integersStayIntegers() throws {
        #expect(try parse("7").numberValue?.int64Value == 7)
        #expect(try parse("7").numberValue?.isInteger == true)
        #expect(try text(parse("7")) == "7")
        #expect(try text(parse("-9223372036854775808")) == "-9223372036854775808")
        #expect(try text(parse("18446744073709551615")) == "18446744073709551615")
        #expect(try parse("18446744073709551615").numberValue?.uint64Value == UInt64.max)
        #expect(try text(parse("2.5")) == "2.5")
        #expect(try text(parse("1.0000000000000002")) == "1.0000000000000002")
        #expect(try parse("1.0000000000000002").doubleValue == 1.000_000_000_000_000_2)
        // JSONDecoder cannot tell 2.0 from 2: both are the integer 2.
        #expect(try parse("2.0") == 2)
        #expect(JSONNumber(2.0) == JSONNumber(2))
        #expect(JSONNumber(2.0).isInteger)
        #expect(!JSONNumber(2.5).isInteger)
        #expect(try parse("1e2") == 100)
        #expect(try parse("-0") == 0)
        // Beyond UInt64: the nearest Double.
        #expect(try parse("123456789012345678901").doubleValue == 123_456_789_012_345_678_901.0)
    }

    @Test func objectsCompareWhateverTheOrder() throws {
        let ordered: JSONObject = ["b": 1, "a": 2]
        let reversed: JSONObject = ["a": 2, "b": 1]
        #expect(ordered == reversed)
        #expect(ordered.hashValue == reversed.hashValue)
        #expect(ordered.keys == ["b", "a"])
        #expect(Set([JSONValue.object(ordered), .object(reversed)]).count == 1)
        #expect(ordered != ["a": 2, "b": 2])
        #expect(ordered != ["a": 2])
        // Decoded objects keep the wire order.
        #expect(try parse(#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#).objectValue?.keys == ["z", "a", "m"])
        #expect(try parse(#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#)["m"]?.objectValue?.keys == ["y", "b"])
    }

    /// A plain JSONDecoder (not this module's entry points) still decodes the same values,
    /// through the slower kind-by-kind path, with object keys sorted.
    @Test func plainJSONDecoderFallback() throws {
        let json = #"{"z":[1,2.5,"s",true,null,{"k":[]}],"a":-7,"u":18446744073709551615}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        #expect(value == (try parse(json)))
        #expect(value.objectValue?.keys == ["a", "u", "z"])
        let reply = try JSONDecoder().decode(
            BotAction.self,
            from: Data(#"{"type":"new_thing","b":{"y":1,"x":[2]}}"#.utf8)
        )
        #expect(reply == .unknown(UnknownObject(raw: ["type": "new_thing", "b": ["x": [2], "y": 1]])!))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JSONValue.self, from: Data("[1e400]".utf8)) }
    }

    @Test func duplicateKeysFirstWins() throws {
        var object: JSONObject = JSONObject([.init(key: "k", value: 1), .init(key: "k", value: 2)])
        #expect(object["k"] == 1)
        #expect(object.count == 1)
        #expect(object == ["k": 1])
        #expect(try text(.object(object)) == #"{"k":1}"#)
        object["k"] = 3
        #expect(object.members.map(\.value) == [3, 2])
        object["k"] = nil
        #expect(object.isEmpty)
        // JSONDecoder keeps the first of duplicate keys too.
        #expect(try parse(#"{"k":1,"k":2}"#) == ["k": 1])
    }

    @Test func accessorsAndTruthiness() throws {
        let value: JSONValue = ["a": [1, "two", nil], "b": false]
        #expect(value["a"]?[1]?.stringValue == "two")
        #expect(value["a"]?[2]?.isNull == true)
        #expect(value["a"]?[3] == nil)
        #expect(value["b"]?.boolValue == false)
        #expect(value["zz"] == nil)
        #expect(value.arrayValue == nil)
        #expect([JSONValue.null, false, 0, 0.0, ""].map(\.isTruthy) == [false, false, false, false, false])
        #expect([JSONValue.bool(true), 1, -0.5, "0", [], [:]].map(\.isTruthy) == [true, true, true, true, true, true])
        #expect(value.description == #"{"a":[1,"two",null],"b":false}"#)
    }

    @Test func decodesTypedValuesFromItself() throws {
        let payload: JSONValue = ["event": "open_cart", "payload": ["items": 3]]
        #expect(
            try payload.decode(SendJSEventAction.self) == SendJSEventAction(event: "open_cart", payload: ["items": 3]))
        let error = try #require(throws: ClustaarDecodingError.self) { try payload.decode(AgentReply.self) }
        #expect(error.path == "type")
    }

    /// The module's own parse and Foundation's decoder agree, on every fixture and on escapes,
    /// whitespace, numbers and duplicates.
    @Test func ownParseAgreesWithJSONDecoder() throws {
        var documents = [
            #" { "a" : [ 1 , -2.5e-3 , 1E+2 , 0 ] ,"b":"\"\\\/\b\f\n\r\t\u00e9\u4e2D\ud83d\ude00\u0000" } "#,
            #"{"k":1,"k":2,"":{},"e":[]}"#, #""lone""#, "-0", "18446744073709551616", "[true,false,null]",
        ]
        for file in try Fixtures.allFileNames() where !file.hasPrefix("invalid/") {
            documents.append(String(decoding: try Fixtures.bytes(file), as: UTF8.self))
        }
        for document in documents {
            let own = try parse(document)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(own == foundation, "\(document.prefix(60))")
        }
        #expect(try parse(documents[0])["b"] == "\"\\/\u{8}\u{C}\n\r\té中😀\u{0}")
    }

    /// JSONDecoder accepts a UTF-8 byte order mark; so does the own parse (wire order kept).
    @Test func byteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"{"b":1,"a":2}"#.utf8)
        let value = try ClustaarJSON.decode(JSONValue.self, from: bytes[...])
        #expect(value.objectValue?.keys == ["b", "a"])
    }

    @Test func nonFiniteNumbersDoNotEncode() throws {
        #expect(throws: ClustaarEncodingError.self) {
            try ClustaarJSON.encode(JSONValue.number(JSONNumber(Double.nan)))
        }
        #expect(throws: ClustaarEncodingError.self) {
            try ClustaarJSON.encode(JSONValue.number(JSONNumber(Double.infinity)))
        }
    }
}
