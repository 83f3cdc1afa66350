// The team's loader policy: never touch the device a checkpoint was saved
// on. Everything is read onto the CPU (map_location = cpu), then moved to
// the target in one pass, tensor by tensor.
#include "harness/strategy/strategy.h"

namespace consumer {
namespace {

class CpuFirst : public harness::strategy::Strategy {
 public:
  std::string_view name() const override { return "cpu_first"; }
  fixtures::LoadedCheckpoint Load(const harness::strategy::LoadRequest& r) const override {
    fixtures::LoadedCheckpoint c = fixtures::Load(r.path, r.format, c10::Device("cpu"));
    if (r.target != "cpu") c.To(c10::Device(r.target));
    return c;
  }
};

HARNESS_REGISTER_STRATEGY(CpuFirst);

}  // namespace
}  // namespace consumer
