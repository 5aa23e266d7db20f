// The system's OpenSSL 3 (Debian: libssl-dev), for TLSEngine.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
