import Foundation
import Testing
import TransportCore
import TransportLWS

@Suite struct LWSResourceTests {
    static func count(_ directory: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: directory).count
    }

    /// Each cycle starts a service thread, creates a context, connects, echoes once, closes,
    /// joins the thread and destroys the context. A leak of one descriptor or thread per cycle
    /// shows as 1,000. `make test` runs this suite in a process of its own (COUNTING_SUITES):
    /// beside the TLS suites, whose 24 concurrent connections each hold a thread and sockets,
    /// the process's counts moved by tens between two samples (the bound had to be 64). Alone,
    /// the only other activity is the other framing's run (one connection at a time: a thread
    /// and three descriptors); measured alone, the counts moved by at most 3 descriptors and 1
    /// thread in six runs, hence the allowance.
    @Test(arguments: LWSTransport.Framing.allCases)
    func thousandConnectCloseCyclesLeakNoDescriptorsOrThreads(framing: LWSTransport.Framing) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/echo"))
        func cycle(_ index: Int) async throws {
            let echoed = try await LWSTransport(framing: framing).withConnection(to: request) { connection in
                try await connection.send(.text("\(index)"))
                var iterator = connection.inbound.makeAsyncIterator()
                return try await nextMessage(&iterator)
            }
            #expect(echoed == .text("\(index)"))
        }
        for index in 0..<10 { try await cycle(index) }  // warm up pools and lazy globals
        let descriptorsBefore = try Self.count("/proc/self/fd")
        let threadsBefore = try Self.count("/proc/self/task")
        for index in 0..<1_000 { try await cycle(index) }
        let descriptorsAfter = try Self.count("/proc/self/fd")
        let threadsAfter = try Self.count("/proc/self/task")
        #expect(descriptorsAfter - descriptorsBefore < 10, "descriptors \(descriptorsBefore) -> \(descriptorsAfter)")
        #expect(threadsAfter - threadsBefore < 4, "threads \(threadsBefore) -> \(threadsAfter)")
    }
}
