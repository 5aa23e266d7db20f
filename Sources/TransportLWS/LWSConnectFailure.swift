import TransportCore

/// Turns what lws reports in `LWS_CALLBACK_CLIENT_CONNECTION_ERROR` into a `TransportError`.
enum LWSConnectFailure {
    /// - Parameters:
    ///   - text: the library's reason (the callback's `in` string).
    ///   - httpStatus: `lws_http_client_http_response`, 0 when no HTTP answer was read.
    ///   - usesTLS: whether the connection was `wss://`.
    static func error(text: String, httpStatus: Int, usesTLS: Bool) -> TransportError {
        let reason = text.trimmingTrailingNewlines()
        if httpStatus != 0 && httpStatus != 101 {
            return TransportError(
                .handshakeRejected(status: httpStatus), "the server answered \(httpStatus): \(reason)")
        }
        if reason.hasPrefix("HS:") || reason.contains("protocol no match") {
            return TransportError(.handshakeInvalid, reason)
        }
        let lowered = reason.lowercased()
        if usesTLS && isTLSText(lowered) {
            // lws' own words for a failed certificate check: as permanent as ours (LWSSession).
            let verificationFailed = lowered.contains("x509_v_err") || lowered.contains("cert didn't look good")
            return TransportError(.tls, reason, isPermanent: verificationFailed)
        }
        if lowered.contains("getaddrinfo") || lowered.contains("dns") || lowered.contains("resolv") {
            return TransportError(.resolveFailed, reason)
        }
        return TransportError(.connectFailed, reason.isEmpty ? "the connection failed" : reason)
    }

    /// The texts lws 4.1's OpenSSL client code writes: "connect SSL err …", "connect SYSCALL …",
    /// "server's cert didn't look good, X509_V_ERR = …", "bio_create failed", "tls restriction …".
    private static func isTLSText(_ lowered: String) -> Bool {
        ["ssl", "tls", "x509", "cert", "syscall", "bio_create", "connect unk"].contains { lowered.contains($0) }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var result = self
        while let last = result.last, last.isNewline { result.removeLast() }
        return result
    }
}
