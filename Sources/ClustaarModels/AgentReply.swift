/// The payload of an `agent_reply` event: a message typed by a human agent.
public struct AgentReply: Sendable, Hashable, Codable {
    /// The message kind (`text` in practice).
    public var type: String
    /// May hold HTML: sanitize before rendering.
    public var message: String

    /// A reply of kind `type` holding `message`.
    public init(type: String = "text", message: String) {
        self.type = type
        self.message = message
    }
}
