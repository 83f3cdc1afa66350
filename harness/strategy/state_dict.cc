// state_dict: the model already exists on the target, and the checkpoint is
// loaded to the CPU and copied into it:
// `model.to(device); model.load_state_dict(torch.load(path, map_location="cpu"))`.
// The model's tensors are allocated on the target inside the recorded
// region, as a model built there would be.
#include <ATen/ops/empty_strided.h>

#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class StateDict : public Strategy {
 public:
  std::string_view name() const override { return "state_dict"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    fixtures::LoadedCheckpoint loaded = fixtures::Load(r.path, r.format, c10::Device("cpu"));
    c10::impl::GenericDict model(c10::StringType::get(), c10::TensorType::get());
    const c10::Device target(r.target);
    for (const auto& [name, t] : loaded.Tensors()) {
      at::Tensor parameter = at::empty_strided(t.sizes(), t.strides(), t.options().device(target));
      parameter.copy_(t);
      model.insert(name, parameter);
    }
    return fixtures::LoadedCheckpoint::FromDict(std::move(model));
  }
};

HARNESS_REGISTER_STRATEGY(StateDict);

}  // namespace
}  // namespace harness::strategy
