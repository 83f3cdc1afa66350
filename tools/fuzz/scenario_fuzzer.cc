// Scenario files: any bytes give cases or a kInvalidScenario, never a crash.
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "tools/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> kKnown = {"cpu_then_to", "load_then_to", "map_location", "remap", "state_dict"};
  const std::string text(reinterpret_cast<const char*>(data), size);
  harness::Result<std::vector<harness::scenario::Case>> cases =
      harness::scenario::ParseScenario(text, "fuzz.yaml", &kKnown);
  if (!cases.ok() && cases.status().error_class() != harness::ErrorClass::kInvalidScenario) __builtin_trap();
  return 0;
}
