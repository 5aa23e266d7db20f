// ClustaarSDK: the public webchat API, composing PhoenixProtocol, ClustaarModels and any
// Transport. (Filled by the SDK issue.)
