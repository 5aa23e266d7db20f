// WebSocketProtocol: the client side of RFC 6455 without I/O, shared by both transports
// (TransportPOSIX over its own sockets, TransportLWS on its raw-socket framing).
//
// Pieces, each in its own file, each testable alone:
// - HTTPUpgradeHandshake: the upgrade request bytes and the check of the server's answer.
// - WebSocketFrame, WebSocketFrameDecoder / WebSocketFrameEncoder, WebSocketMasking,
//   UTF8Validator: the wire format, incremental (public: the benchmarks and fuzzers use them).
// - WebSocketConnectionStateMachine: ping/pong, reassembly, UTF-8, close handshake and limits of
//   an open connection; events in, actions out.
// Rules: no sockets, threads, clocks or tasks: bytes and events go in, bytes, values and actions
// come out, and the caller does the I/O. Imports TransportCore only (and swift-crypto for the
// SHA-1 of Sec-WebSocket-Accept). Nothing read from the network can crash the process: every
// failure is a `WebSocketProtocolError` or a `TransportError`. What only the transports need is
// `package`, not `public`.
