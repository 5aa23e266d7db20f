// The thinnest layer over libwebsockets: only what Swift cannot import (macros that are
// expressions, variadic logging). All logic lives in Swift (TransportLWS).
#ifndef LWS_SHIM_H
#define LWS_SHIM_H

#include <libwebsockets.h>
#include <stddef.h>

/// `LWS_PRE`: the headroom libwebsockets needs before every payload given to `lws_write`.
static inline size_t lwsshim_pre(void) { return LWS_PRE; }

#endif
