#include "lws_shim.h"
