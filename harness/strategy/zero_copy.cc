// zero_copy: the reference line. Every storage aliases a private memory map
// of the checkpoint (fixtures/mapped_checkpoint.h): a load to the CPU copies
// no tensor byte and allocates no host memory of its own; a load to a GPU
// copies from the mapped file pages straight to the device. No loader can
// do less, so performance tables show every loader as a ratio to it.
#include "fixtures/mapped_checkpoint.h"
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

class ZeroCopy : public Strategy {
 public:
  std::string_view name() const override { return "zero_copy"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    return fixtures::LoadMapped(r.path, r.format, c10::Device(r.target));
  }
};

HARNESS_REGISTER_STRATEGY(ZeroCopy);

}  // namespace
}  // namespace harness::strategy
