// The entry point of every fuzz target here, as libFuzzer defines it:
// `data` is any bytes; the target must return 0 and must not crash, hang or
// trip a sanitizer, whatever they are.
#ifndef TOOLS_FUZZ_FUZZ_TARGET_H_
#define TOOLS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // TOOLS_FUZZ_FUZZ_TARGET_H_
