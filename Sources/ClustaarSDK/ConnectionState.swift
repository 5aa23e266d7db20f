import PhoenixClient

/// What the service's socket is doing, as reported on `ClustaarWebChatService.connectionStates`:
/// connecting, open, closed (with the close code), a transport error, or a reconnect scheduled.
public typealias ConnectionState = PhoenixConnectionState
