// Strategies that each break one rule of the strategy contract, so that
// conformance_fails_test.sh can show the conformance suite catches them.
#include <ATen/ops/zeros_like.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

// Loads correctly, then zeroes one tensor: bytes no longer match.
class Corrupting : public Strategy {
 public:
  std::string_view name() const override { return "broken_corrupting"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    fixtures::LoadedCheckpoint c = fixtures::Load(r.path, r.format, c10::Device("cpu"));
    for (auto& [name, t] : c.Tensors()) {
      if (name == "layer0_weight") t.zero_();
    }
    return c;
  }
};

// Throws something no classifier knows for files it cannot read.
class Unclassified : public Strategy {
 public:
  std::string_view name() const override { return "broken_unclassified"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    if (std::FILE* f = std::fopen(r.path.c_str(), "rb")) {
      std::fclose(f);
      return fixtures::Load(r.path, r.format, c10::Device("cpu"));
    }
    throw std::runtime_error("something odd happened");
  }
};

// Leaves a scratch file in $TMPDIR.
class Leaky : public Strategy {
 public:
  std::string_view name() const override { return "broken_leaky"; }
  fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {
    const char* tmp = std::getenv("TMPDIR");
    const std::string scratch = std::string(tmp && *tmp ? tmp : "/tmp") + "/broken_leaky.scratch";
    std::FILE* f = std::fopen(scratch.c_str(), "w");
    if (f != nullptr) std::fclose(f);
    return fixtures::Load(r.path, r.format, c10::Device("cpu"));
  }
};

HARNESS_REGISTER_STRATEGY(Corrupting);
HARNESS_REGISTER_STRATEGY(Unclassified);
HARNESS_REGISTER_STRATEGY(Leaky);

}  // namespace
}  // namespace harness::strategy
