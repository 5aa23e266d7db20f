import Foundation
import Testing
import TransportCore
import TransportLWS

/// Regression (found by the hostile-server tests of issue 9): refusing a message from inside the
/// receive callback while more of it was already read made libwebsockets 4.1.6 write past its
/// buffer (a segfault). A message far over the limit, and over lws' 64 KiB read size, must end
/// with `messageTooBig` and the process must go on.
@Suite(.timeLimit(.minutes(1))) struct LWSRefusalTests {
    @Test(arguments: [200_000, 1_000_000])
    func messageFarOverTheLimitEndsWithMessageTooBig(size: Int) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(
            url: server.url("/big/\(size)"), limits: WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: 4096))
        let thrown = try await LWSTransport().withConnection(to: request) { connection -> TransportError? in
            do {
                for try await _ in connection.inbound {}
                return nil
            } catch let error as TransportError {
                return error
            }
        }
        #expect(thrown?.code == .messageTooBig)

        // The transport still works after the refusal.
        let echoed = try await LWSTransport().withConnection(to: WebSocketRequest(url: server.url("/echo"))) {
            connection in
            try await connection.send(.text("after"))
            var iterator = connection.inbound.makeAsyncIterator()
            return try await iterator.next()
        }
        #expect(echoed == .text("after"))
    }
}
