/// The topic and event names met lately, so that decoding a frame reuses their `String`s: a name
/// over 15 UTF-8 bytes (`interlocutor:<id>`, `interlocutor_reply`) is a heap allocation each time
/// one is made, and a channel's topic comes in every frame. A few entries, replaced in turn; the
/// socket machine keeps one for its life.
struct PhoenixNameCache: Sendable {
    static let capacity = 8

    private var names: [String] = []
    private var nextSlot = 0

    /// The name whose UTF-8 is `bytes`: one met lately, or a new one (then kept). Nil when
    /// `bytes` is not UTF-8.
    mutating func name(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // Up to 15 bytes a string lives inline: nothing to save.
        guard bytes.count > 15 else { return String(validating: bytes, as: UTF8.self) }
        for name in names where name.utf8.count == bytes.count {
            if name.utf8.withContiguousStorageIfAvailable({ $0.elementsEqual(bytes) }) == true { return name }
        }
        guard let name = String(validating: bytes, as: UTF8.self) else { return nil }
        if names.count < Self.capacity {
            names.append(name)
        } else {
            names[nextSlot] = name
            nextSlot = (nextSlot + 1) % Self.capacity
        }
        return name
    }
}
