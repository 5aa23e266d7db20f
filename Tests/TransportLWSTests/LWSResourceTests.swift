import Foundation
import Testing
import TransportCore
import TransportLWS

@Suite struct LWSResourceTests {
    static func count(_ directory: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: directory).count
    }

    /// Each cycle starts a service thread, creates a context, connects, echoes once, closes,
    /// joins the thread and destroys the context. Other tests of the process run in parallel
    /// and open their own descriptors and threads (the TLS suite holds 24 connections open at
    /// once, each with its service thread and socket), hence the allowance: a leak of one
    /// descriptor or thread per cycle would show as 1,000.
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
        #expect(descriptorsAfter - descriptorsBefore < 64, "descriptors \(descriptorsBefore) -> \(descriptorsAfter)")
        #expect(threadsAfter - threadsBefore < 64, "threads \(threadsBefore) -> \(threadsAfter)")
    }
}
