/// A min-heap of channel and push deadlines, for `nextDeadline` and `timerFired` in O(log n)
/// with 10,000 channels.
///
/// Entries are never removed when a timer is cancelled: each carries the serial of the timer it
/// was created for, and the owner (channel or push) keeps the serial of its live timer. An entry
/// whose serial no longer matches is stale and skipped.
struct PhoenixTimerQueue: Sendable {
    enum Target: Sendable, Hashable {
        case channel(topic: String)
        case push(PhoenixPushID)
    }

    struct Entry: Sendable {
        var deadline: PhoenixInstant
        var serial: UInt64
        var target: Target

        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && serial < other.serial)
        }
    }

    private var heap: [Entry] = []
    private var lastSerial: UInt64 = 0

    var first: Entry? { heap.first }
    var count: Int { heap.count }

    /// Adds a timer and returns its serial.
    mutating func schedule(_ target: Target, at deadline: PhoenixInstant) -> UInt64 {
        lastSerial += 1
        heap.append(Entry(deadline: deadline, serial: lastSerial, target: target))
        siftUp(heap.count - 1)
        return lastSerial
    }

    mutating func popFirst() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let entry = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return entry
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
