// TransportPOSIX: a pure Swift RFC 6455 WebSocket client over POSIX sockets.
// (Filled by the TransportPOSIX issue; it serves ws:// only, wss:// belongs to TransportLWS.)
