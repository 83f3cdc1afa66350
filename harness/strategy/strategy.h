// A strategy is one way of loading a checkpoint onto a target device: what
// scenarios compare. Built-ins: load_then_to, map_location, cpu_then_to,
// remap, state_dict; external commands (harness/strategy/external.h) for
// loaders in other processes, e.g. Python's torch.load.
//
// To add one (see load_then_to.cc for a complete example):
//
//   class MyLoader : public harness::strategy::Strategy {
//    public:
//     std::string_view name() const override { return "my_loader"; }
//     fixtures::LoadedCheckpoint Load(const LoadRequest& r) const override {...}
//   };
//   HARNESS_REGISTER_STRATEGY(MyLoader);
//
// and link the cc_library (alwayslink = 1) into the replay binaries. Every
// registered strategy must pass the conformance suite
// (harness/strategy/conformance_test.cc; strategy_conformance_test in
// harness/strategy/defs.bzl runs it over a user's own strategies).
//
// The contract:
//   - name() is non-empty, stable, and the name it is registered under;
//   - Load() either returns the checkpoint's tensors or throws: whatever
//     LibTorch throws (the recorder classifies it), or harness::StatusError
//     for an error whose class the strategy already knows;
//   - Load() with target "cpu" leaves every tensor on the CPU, bit-exact;
//   - Load() does not leave files behind or change the process's devices.
#ifndef HARNESS_STRATEGY_STRATEGY_H_
#define HARNESS_STRATEGY_STRATEGY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/checkpoint_io.h"

namespace harness::strategy {

struct LoadRequest {
  std::string path;
  fixtures::Format format = fixtures::Format::kTorchScript;
  std::string target;  // device string, e.g. "cpu", "cuda:0"
  // For `remap`: "cuda:1=cuda:0,..."; empty maps every saved device to target.
  std::string device_map;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  virtual fixtures::LoadedCheckpoint Load(const LoadRequest& request) const = 0;
};

// Registers `strategy` under its name; a duplicate name aborts at start-up.
void RegisterStrategy(std::unique_ptr<Strategy> strategy);
// nullptr when no strategy of that name is linked in.
const Strategy* FindStrategy(std::string_view name);
std::vector<std::string> StrategyNames();

}  // namespace harness::strategy

#define HARNESS_REGISTER_STRATEGY(Class)                              \
  static const bool harness_strategy_registered_##Class = [] {        \
    ::harness::strategy::RegisterStrategy(std::make_unique<Class>()); \
    return true;                                                      \
  }()

#endif  // HARNESS_STRATEGY_STRATEGY_H_
