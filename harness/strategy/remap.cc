// remap: a device map applied while loading, like Python's
// `torch.load(path, map_location={"cuda:1": "cuda:0"})`, which LibTorch's C++
// API lacks. Built on fixtures/retag: the archive's storage locations are
// rewritten by the map into a temporary copy, which is then loaded without
// map_location. Its cost (a rewrite of the archive on the host) is part of
// what the recorder and the report's wall time show.
#include "fixtures/retag/retag.h"
#include "harness/base/files.h"
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class Remap : public Strategy {
 public:
  std::string_view name() const override { return "remap"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    fixtures::RetagPlan plan;
    if (!r.device_map.empty()) {
      Result<fixtures::RetagPlan> parsed = fixtures::ParseDeviceMap(r.device_map);
      ThrowIfError(parsed.status());
      plan = *parsed;
    } else {
      Result<std::vector<fixtures::StorageInfo>> storages = fixtures::ListStorages(r.path);
      ThrowIfError(storages.status());
      for (const fixtures::StorageInfo& s : *storages) plan.by_location[s.location] = r.target;
    }
    // A private directory (mode 0700, unpredictable name) for the rewritten copy.
    Result<std::string> dir = MakeTempDirectory("remap");
    ThrowIfError(dir.status());
    struct Cleanup {
      std::string dir;
      ~Cleanup() { (void)RemoveTree(dir); }
    } cleanup{*dir};
    const std::string remapped = *dir + "/remapped.pt";
    ThrowIfError(fixtures::Retag(r.path, remapped, plan));
    return fixtures::Load(remapped, r.format, c10::nullopt);
  }
};

HARNESS_REGISTER_STRATEGY(Remap);

}  // namespace
}  // namespace harness::strategy
