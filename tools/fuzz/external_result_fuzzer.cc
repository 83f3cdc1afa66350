// An external command's output: any bytes give a classified result (OK, a
// skip, or an error with a message), never a crash or an exception.
#include <string>

#include "harness/strategy/external.h"
#include "tools/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string output(reinterpret_cast<const char*>(data), size);
  const harness::strategy::ExternalResult r = harness::strategy::ParseExternalResult(output, "exit 0");
  if (r.outcome.ok() == false && r.outcome.message().empty()) __builtin_trap();
  return 0;
}
