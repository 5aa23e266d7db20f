// Everything is in include/openssl_shim.h (static inline); SwiftPM needs one source file.
#include "openssl_shim.h"
