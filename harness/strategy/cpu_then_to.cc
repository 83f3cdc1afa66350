// cpu_then_to: load onto the CPU, then move: the article's "safe" habit,
// `torch.load(path, map_location="cpu").to(device)`.
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class CpuThenTo : public Strategy {
 public:
  std::string_view name() const override { return "cpu_then_to"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    fixtures::LoadedCheckpoint c = fixtures::Load(r.path, r.format, c10::Device("cpu"));
    c.To(c10::Device(r.target));
    return c;
  }
};

HARNESS_REGISTER_STRATEGY(CpuThenTo);

}  // namespace
}  // namespace harness::strategy
