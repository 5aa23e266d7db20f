// ClustaarSDK: the public webchat API. It composes PhoenixProtocol (the pure socket/channel
// state machine and serializers), ClustaarModels (typed payloads) and any TransportCore
// `Transport` (LWS, POSIX, or the in-memory one in tests).
//
// Rules:
// - No globals: every `ClustaarWebChatService` owns its socket; several live side by side.
// - One inbound path (transport bytes -> serializer -> state machine -> typed streams) and one
//   outbound path (API call -> state machine -> frame -> transport). Nothing goes around the
//   machine.
// - The machine never reads a clock: `ServiceCore` feeds it the time of the service's clock, so
//   tests drive hours of heartbeats with a `ManualClock`.
// - Every call that waits for the server (`connect`, `join`, `sendReply`) returns or throws
//   exactly once: reply, rejection, timeout, disconnection or cancellation. Nothing is dropped
//   silently.
// - Streams have many consumers, end when their channel (or service) ends, and survive a
//   payload that fails to decode: the failure goes to the `errors` stream.
@_exported import ClustaarModels
@_exported import TransportCore
