// load_then_to: restore every tensor on the device it was saved on, then move
// it: `torch.load(path).to(device)`.
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class LoadThenTo : public Strategy {
 public:
  std::string_view name() const override { return "load_then_to"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    fixtures::LoadedCheckpoint c = fixtures::Load(r.path, r.format, c10::nullopt);
    c.To(c10::Device(r.target));
    return c;
  }
};

HARNESS_REGISTER_STRATEGY(LoadThenTo);

}  // namespace
}  // namespace harness::strategy
