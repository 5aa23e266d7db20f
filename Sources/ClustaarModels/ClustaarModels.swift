// ClustaarModels: the Clustaar webchat payloads as Codable Swift values. No I/O.
//
// What lives here: the values the server pushes on an interlocutor channel (bot replies with
// their actions, agent replies, echoed interlocutor replies, control changes, the join status),
// what the client sends (`InterlocutorReply`, `JoinParams`), the reply envelope rule of the
// original JS SDK (`ClustaarEnvelope`), and a free-form `JSONValue` for the parts the protocol
// leaves open. The wire contract is `shared/CLUSTAAR-PROTOCOL.md`.
//
// Rules:
// - Every type is a `Sendable`, `Hashable` value; nothing holds `Any`.
// - Decoding never traps. Malformed input throws `ClustaarDecodingError`, which names the
//   coding path of the fault (`body.data.fulfillment.actions[2].buttons[0].title`).
// - Forward compatibility: an action, button action, target or message body with a `type` we do
//   not know decodes as `.unknown`, keeping its type name and raw JSON, and re-encodes unchanged.
//   Unknown extra keys are ignored everywhere.
// - No coercion: a number is never read from a string, nor a bool from a number.
// - Strings are kept verbatim (no HTML unescaping, no trimming); the renderer decides.
// - Limits the server applies when a bot is authored (lengths, counts, wait durations) are not
//   enforced here: a client must accept what the server sends.
// - Nested objects' own `type` keys (`card`, `quick_reply`, `choice`...) carry nothing the client
//   uses: they are ignored when decoding and not written when encoding.
// - Duplicate keys: the first occurrence wins (as in `JSONDecoder`), deterministically.
// - Entry points: `ClustaarEnvelope.decode` for server events, `ClustaarJSON.decode/encode` for
//   the rest. They use Foundation's `JSONDecoder`/`JSONEncoder` for the typed values, and take
//   free-form values whole from one parse of the payload (`JSONTextParser`): reading them kind
//   by kind through `JSONDecoder` costs time proportional to depth per value.
// - This module imports nothing of ours.
