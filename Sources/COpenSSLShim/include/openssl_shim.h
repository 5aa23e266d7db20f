// Functions for the OpenSSL macros Swift cannot import. Nothing else: the logic is in Swift.
#ifndef CLUSTAAR_OPENSSL_SHIM_H
#define CLUSTAAR_OPENSSL_SHIM_H

#if __has_include(<openssl/ssl.h>)
#include <openssl/ssl.h>
#include <openssl/bio.h>

static inline int cssl_set_min_proto_version_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline int cssl_set_max_proto_version_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
}

static inline int cssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline long cssl_set_mode(SSL *ssl, long mode) { return SSL_set_mode(ssl, mode); }

static inline long cssl_mode_enable_partial_write(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long cssl_mode_accept_moving_write_buffer(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline long cssl_mode_release_buffers(void) { return SSL_MODE_RELEASE_BUFFERS; }

/// An empty memory BIO then says "retry" (not end of file): more ciphertext may come.
static inline long cssl_bio_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }

static inline int cssl_verify_peer(void) { return SSL_VERIFY_PEER; }
static inline int cssl_verify_none(void) { return SSL_VERIFY_NONE; }

/// Client sessions reach the new-session callback; OpenSSL's own cache keeps none of them.
static inline long cssl_ctx_set_client_session_cache(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}
#endif

#endif
