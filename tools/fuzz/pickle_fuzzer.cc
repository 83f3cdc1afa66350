// The pickle walker behind `fixtures retag` and the archive check: any bytes
// give a rewritten pickle or an error with a message, never a crash; and a
// pickle it wrote walks again to the same storages.
#include <string>
#include <vector>

#include "fixtures/retag/retag.h"
#include "tools/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view pickle(reinterpret_cast<const char*>(data), size);
  fixtures::RetagPlan plan;
  plan.by_location = {{"cpu", "cuda:1"}, {"cuda:0", "cpu"}};
  std::vector<fixtures::StorageInfo> storages;
  const harness::Result<std::string> rewritten = fixtures::RetagPickle(pickle, plan, &storages);
  if (!rewritten.ok()) {
    if (rewritten.status().message().empty()) __builtin_trap();
    return 0;
  }
  std::vector<fixtures::StorageInfo> again;
  const harness::Result<std::string> same = fixtures::RetagPickle(*rewritten, {}, &again);
  if (!same.ok() || *same != *rewritten || again.size() != storages.size()) __builtin_trap();
  for (size_t i = 0; i < again.size(); ++i) {
    if (again[i].key != storages[i].key || again[i].location != storages[i].location) __builtin_trap();
  }
  return 0;
}
