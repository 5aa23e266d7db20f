// PhoenixClient: a Phoenix Channels client for any app, over any TransportCore `Transport`.
// `PhoenixSocket` connects, heartbeats and reconnects; `PhoenixChannel` joins a topic, pushes and
// receives. It composes PhoenixProtocol (the pure state machine and serializers) with a
// transport, and knows nothing of Clustaar: ClustaarSDK is one app built on it.
//
// Rules:
// - No globals: every `PhoenixSocket` owns its connection; several live side by side.
// - One inbound path (transport bytes -> serializer -> state machine -> channel outlet) and one
//   outbound path (API call -> state machine -> frame -> transport), both through the
//   `PhoenixSocketCore` actor. Nothing goes around the machine, and nothing decodes a payload
//   nobody asked for: payloads stay the frame's bytes until a consumer decodes them.
// - The machine never reads a clock: the core feeds it the time of the socket's clock, so tests
//   drive hours of heartbeats with a `ManualClock`.
// - Every call that waits for the server (`connect`, `join`, `push`) returns or throws exactly
//   once, and its error says why (reply, refusal, timeout, connection lost with its close code,
//   channel crashed, left, disconnected, task cancelled).
// - A channel's `events` carries its messages and its life (joined/rejoined, errored, rejected,
//   closed) in one order, so an app sees every rejoin's reply.
// - Presence (`PhoenixPresence`) follows a channel's messages on the socket's executor, as the
//   channel's own observer does (no task in between), with the channel's join ref at each
//   message: the sync rules are PhoenixProtocol's `PhoenixPresenceState`.
@_exported import PhoenixProtocol
@_exported import TransportCore
