// libFuzzer's entry point for programs that have their own `main` (SwiftPM links executables
// with their own main, so libFuzzer's is never called: each fuzz target calls this instead).
#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
