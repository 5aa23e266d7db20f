// ClustaarSDK: the public webchat API, a thin Clustaar layer on PhoenixClient (the generic
// Phoenix socket and channels over any TransportCore `Transport`). What is Clustaar's lives
// here and nowhere else: the interlocutor topic, its join params, the envelope rule (an event's
// payload may be a server error in place of the value), the typed payloads of ClustaarModels and
// their streams, and `ClustaarError`, mapped from PhoenixClient's errors.
//
// Rules:
// - No globals: every `ClustaarWebChatService` owns its `PhoenixSocket`; several live side by side.
// - Typed payloads are decoded once, straight from the frame's bytes, as PhoenixClient delivers
//   each event to the channel's `ChannelSink` (no second hand-off).
// - Every call that waits for the server (`connect`, `join`, `sendReply`) returns or throws
//   exactly once: reply, rejection, timeout, disconnection or cancellation. Nothing is dropped
//   silently.
// - Streams have many consumers, end when their channel (or service) ends, and survive a
//   payload that fails to decode: the failure goes to the `errors` stream.
@_exported import ClustaarModels
@_exported import PhoenixClient
@_exported import TransportCore
