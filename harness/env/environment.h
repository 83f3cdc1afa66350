// The environment a scenario's loader runs in, and how a worker makes it true.
//
//   EnvironmentSpec env = *EnvironmentPreset("missing-gpu");
//   std::string why;
//   if (!CanRealize(env, Backend::kVirtual, HostFacts::Probe(), &why)) skip(why);
//   ...in the forked worker, before anything touches CUDA:
//   Status s = Realize(env, Backend::kVirtual);   // kEnvNotRealized if not
//
// Two backends:
//   virtual  CPU-only LibTorch + harness/env/virtual_cuda: any number of
//            virtual GPUs with optional capacities.
//   real     CUDA LibTorch: the first `gpus` physical devices via
//            CUDA_VISIBLE_DEVICES, set before CUDA initialises.
#ifndef HARNESS_ENV_ENVIRONMENT_H_
#define HARNESS_ENV_ENVIRONMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/base/status.h"

namespace harness::env {

enum class CudaState { kOk, kHidden, kNoDriver, kNoDevice, kOldDriver };
std::string_view CudaStateName(CudaState s);
std::optional<CudaState> CudaStateFromName(std::string_view name);

struct EnvironmentSpec {
  std::string name;          // preset name or "custom"
  int gpus = 0;              // CUDA devices the loader should see
  CudaState cuda = CudaState::kOk;
  std::string visible_devices;   // explicit CUDA_VISIBLE_DEVICES, if any
  int64_t memory_per_gpu = 0;    // bytes; 0 = the device's own capacity

  // The number of devices LibTorch must report once realized.
  int ExpectedDeviceCount() const { return cuda == CudaState::kOk ? gpus : 0; }
};

// missing-gpu, cuda-hidden, single-gpu, dual-gpu, no-device, old-driver.
std::optional<EnvironmentSpec> EnvironmentPreset(std::string_view name);

enum class Backend { kVirtual, kReal };
std::string_view BackendName(Backend b);
// Virtual when the virtual CUDA backend is linked (CPU-only leg), else real.
Backend DefaultBackend();

// What the host offers, probed without initialising CUDA.
struct HostFacts {
  int physical_gpus = 0;        // /dev/nvidiaN nodes
  bool driver_present = false;  // a real libcuda.so.1 is loadable
  std::string driver_stand_in;  // harness/env/driver_fault's libcuda.so.1, if found
  // `argv0` helps find the stand-in in the binary's runfiles.
  static HostFacts Probe(const std::string& argv0 = "");
};

// False with the reason when `backend` cannot realize `env` on this host
// (e.g. two GPUs on a one-GPU host): such cases are SKIPPED, never passed.
bool CanRealize(const EnvironmentSpec& env, Backend backend, const HostFacts& host,
                std::string* why_not);

// For a loader in a separate process (external strategies): whether the
// environment can be made true for it through its environment variables,
// and those variables (CUDA_VISIBLE_DEVICES; LD_LIBRARY_PATH and
// HARNESS_CUDA_FAULT for the driver stand-in). Virtual devices do not reach
// another process, so this always describes the host's real devices.
bool CanRealizeForProcess(const EnvironmentSpec& env, const HostFacts& host, std::string* why_not);
std::vector<std::pair<std::string, std::string>> ProcessEnvironment(const EnvironmentSpec& env,
                                                                    const HostFacts& host);

// Makes `env` true in this process. Call in a fresh worker before CUDA is
// touched: CUDA_VISIBLE_DEVICES, the driver stand-in (no-device, old-driver)
// and the device memory limit (memory_per_gpu) are applied here. Then checks
// what LibTorch reports; kEnvNotRealized otherwise.
Status Realize(const EnvironmentSpec& env, Backend backend, const HostFacts& host);

}  // namespace harness::env

#endif  // HARNESS_ENV_ENVIRONMENT_H_
