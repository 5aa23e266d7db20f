#include "lws_shim.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

int lwsshim_x509_store_error(void *store_context) {
    if (store_context == NULL) {
        return 0;
    }
    return X509_STORE_CTX_get_error((X509_STORE_CTX *)store_context);
}

const char *lwsshim_x509_error_text(int code) { return X509_verify_cert_error_string(code); }
