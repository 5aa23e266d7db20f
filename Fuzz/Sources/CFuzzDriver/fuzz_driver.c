// Empty: the header declares a libFuzzer function; SwiftPM needs one source file per C target.
#include "fuzz_driver.h"
