// map_location: place tensors on the target while loading:
// `torch.load(path, map_location=device)`, `torch::jit::load(path, device)`.
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class MapLocation : public Strategy {
 public:
  std::string_view name() const override { return "map_location"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    return fixtures::Load(r.path, r.format, c10::Device(r.target));
  }
};

HARNESS_REGISTER_STRATEGY(MapLocation);

}  // namespace
}  // namespace harness::strategy
