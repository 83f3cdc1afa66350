// What environment a scenario's loader runs in, described as plain data:
// the presets, the host's facts, and whether a backend can make an
// environment true. No LibTorch: the scenario parser links only this;
// harness/env/environment.h makes a description true inside a worker.
//
//   EnvironmentSpec env = *EnvironmentPreset("missing-gpu");
//   std::string why;
//   if (!CanRealize(env, Backend::kVirtual, host, &why)) skip(why);
//
// Two backends:
//   virtual  CPU-only LibTorch + harness/env/virtual_cuda: any number of
//            virtual GPUs with optional capacities. A loader in another
//            process (an external strategy, any LibTorch) gets the same
//            devices from the virtual CUDA runtime (harness/env/virtual_runtime).
//   real     CUDA LibTorch: the first `gpus` physical devices via
//            CUDA_VISIBLE_DEVICES, set before CUDA initialises; driver
//            faults through the driver stand-in (see cuda_state.h).
#ifndef HARNESS_ENV_ENVIRONMENT_SPEC_H_
#define HARNESS_ENV_ENVIRONMENT_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/env/cuda_state.h"

namespace harness::env {

struct EnvironmentSpec {
  std::string name;  // preset name, or the scenario's own
  int gpus = 0;      // CUDA devices the loader should see
  CudaState cuda = CudaState::kOk;
  std::string visible_devices;  // explicit CUDA_VISIBLE_DEVICES, if any
  int64_t memory_per_gpu = 0;   // bytes; 0 = the device's own capacity

  // The number of devices LibTorch must report once realized.
  int ExpectedDeviceCount() const { return cuda == CudaState::kOk ? gpus : 0; }
};

struct EnvironmentPresetInfo {
  std::string_view name;
  int gpus;
  CudaState cuda;
};

// The presets scenario files may name, in the order the docs list them.
inline constexpr EnvironmentPresetInfo kEnvironmentPresets[] = {
    {"missing-gpu", 0, CudaState::kOk},     {"cuda-hidden", 1, CudaState::kHidden},
    {"no-device", 1, CudaState::kNoDevice}, {"old-driver", 1, CudaState::kOldDriver},
    {"single-gpu", 1, CudaState::kOk},      {"dual-gpu", 2, CudaState::kOk},
};

// nullopt for a name that is no preset.
std::optional<EnvironmentSpec> EnvironmentPreset(std::string_view name);
// "missing-gpu, cuda-hidden, ..., dual-gpu", for messages.
std::string EnvironmentPresetList();

enum class Backend { kVirtual, kReal };
std::string_view BackendName(Backend b);

// What the host and this binary offer; filled by ProbeHost()
// (environment.h) without initialising CUDA, or by hand in tests.
struct HostFacts {
  int physical_gpus = 0;             // /dev/nvidiaN nodes
  bool driver_present = false;       // a real libcuda.so.1 is loadable
  std::string driver_stand_in;       // the driver stand-in's path, if found
  std::string virtual_cuda_runtime;  // libharness_virtual_cuda.so's path, if found
  bool virtual_cuda_runtime_loaded = false;  // and loaded into this process
  bool virtual_cuda_linked = false;  // the virtual backend is in this binary
  bool torch_has_cuda = false;       // this binary's LibTorch has CUDA
  std::string torch_version;         // "1.13.1", "2.11.0"
  int64_t memory_available_bytes = 0;  // MemAvailable of /proc/meminfo; 0 = unknown
  // From the NVIDIA kernel module (/proc/driver/nvidia), for reports; empty
  // without one.
  std::string driver_version;           // "580.159.04"
  std::vector<std::string> gpu_models;  // "NVIDIA H100 80GB HBM3", per GPU
};

// False with the reason when `backend` cannot realize `env` on this host
// (e.g. two GPUs on a one-GPU host): such cases are SKIPPED, never passed.
bool CanRealize(const EnvironmentSpec& env, Backend backend, const HostFacts& host, std::string* why_not);

// For a loader in a separate process (external strategies): whether the
// environment can be made true through the process's environment
// variables, and those variables. With the virtual backend and working GPUs
// (`cuda: ok`, gpus > 0) the process gets virtual devices from the virtual
// CUDA runtime (UsesVirtualRuntime: HARNESS_VIRTUAL_CUDA here, the library
// in LD_PRELOAD from the caller, who composes LD_PRELOAD); otherwise the
// host's real devices (CUDA_VISIBLE_DEVICES; LD_LIBRARY_PATH and
// HARNESS_CUDA_FAULT for the driver stand-in).
bool UsesVirtualRuntime(const EnvironmentSpec& env, Backend backend, const HostFacts& host);
bool CanRealizeForProcess(const EnvironmentSpec& env, Backend backend, const HostFacts& host, std::string* why_not);
std::vector<std::pair<std::string, std::string>> ProcessEnvironment(const EnvironmentSpec& env, Backend backend,
                                                                    const HostFacts& host,
                                                                    std::string_view inherited_ld_library_path);

// The CUDA_VISIBLE_DEVICES value the real backend sets: the explicit
// `visible_devices`, else "" for hidden CUDA, else "0,...,gpus-1".
std::string VisibleDevices(const EnvironmentSpec& env);
// Whether the real backend puts the driver stand-in in place for `env` on
// this host (a driver fault, except no-driver on a driverless host).
bool NeedsDriverStandIn(const EnvironmentSpec& env, const HostFacts& host);

// The CUDA states and presets as Markdown tables, for docs/scenarios.md
// (environment_spec_test checks that the docs carry exactly this text).
std::string EnvironmentTablesMarkdown();

}  // namespace harness::env

#endif  // HARNESS_ENV_ENVIRONMENT_SPEC_H_
