import TransportCore

/// The messages waiting to be written, cut into frames for the writeable callback.
///
/// A plain value: the session keeps it under its lock, the service thread takes one frame per
/// writeable callback. Bytes count as queued until their frame has been handed to lws.
struct LWSOutboundQueue {
    /// One queued item: a data message or our close frame.
    enum Item: Equatable {
        case message(isText: Bool, bytes: [UInt8])
        case close(code: CloseCode, reason: [UInt8])

        var byteCount: Int {
            switch self {
            case .message(_, let bytes): bytes.count
            case .close(_, let reason): 2 + reason.count
            }
        }
    }

    /// One frame to write with `lws_write`.
    struct Frame: Equatable {
        enum Kind: Equatable { case text, binary, continuation, close }
        var kind: Kind
        var payload: ArraySlice<UInt8>
        /// False for every fragment of a message but its last (`LWS_WRITE_NO_FIN`).
        var isFinal: Bool
    }

    /// The largest frame payload written in one callback; larger messages go out as fragments.
    let fragmentSize: Int
    private var items: [Item] = []
    private var head = 0
    /// How much of the head message is already written.
    private var offset = 0
    /// Bytes accepted by `append` and not yet handed to a frame.
    private(set) var queuedBytes = 0

    init(fragmentSize: Int) {
        self.fragmentSize = Swift.max(1, fragmentSize)
    }

    var isEmpty: Bool { head == items.count }

    /// Whether a message of `byteCount` bytes fits under `limit`. A message larger than the
    /// whole limit is still accepted once the queue is empty, so it cannot wait forever.
    func canAccept(byteCount: Int, limit: Int) -> Bool {
        queuedBytes == 0 || queuedBytes + byteCount <= limit
    }

    mutating func append(_ item: Item) {
        items.append(item)
        queuedBytes += item.byteCount
    }

    /// Takes the next frame off the queue; nil when nothing is queued.
    mutating func nextFrame() -> Frame? {
        guard head < items.count else { return nil }
        switch items[head] {
        case .close(let code, let reason):
            var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xff)]
            payload.append(contentsOf: reason)
            queuedBytes -= payload.count
            popHead()
            return Frame(kind: .close, payload: payload[...], isFinal: true)
        case .message(let isText, let bytes):
            let end = Swift.min(bytes.count, offset + fragmentSize)
            let kind: Frame.Kind = offset > 0 ? .continuation : (isText ? .text : .binary)
            let frame = Frame(kind: kind, payload: bytes[offset..<end], isFinal: end == bytes.count)
            queuedBytes -= end - offset
            offset = end
            if frame.isFinal { popHead() }
            return frame
        }
    }

    private mutating func popHead() {
        head += 1
        offset = 0
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
