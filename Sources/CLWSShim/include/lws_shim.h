// The thinnest layer over libwebsockets: only what Swift cannot import (macros that are
// expressions) and the two OpenSSL calls that name a certificate verification error.
// All logic lives in Swift (TransportLWS).
#ifndef LWS_SHIM_H
#define LWS_SHIM_H

#include <libwebsockets.h>
#include <stddef.h>

/// `LWS_PRE`: the headroom libwebsockets needs before every payload given to `lws_write`.
static inline size_t lwsshim_pre(void) { return LWS_PRE; }

/// The verification error of an `X509_STORE_CTX *` (the `user` argument of
/// LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION); 0 is X509_V_OK.
int lwsshim_x509_store_error(void *store_context);

/// OpenSSL's text for a verification error code, e.g. "certificate has expired".
const char *lwsshim_x509_error_text(int code);

#endif
