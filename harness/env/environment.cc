#include "harness/env/environment.h"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <torch/cuda.h>

#include "harness/compat/torch_compat.h"
#include "harness/env/driver_fault/driver_fault.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"

#if HARNESS_TORCH_HAS_CUDA
#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace harness::env {
namespace {

constexpr std::pair<CudaState, std::string_view> kStateNames[] = {
    {CudaState::kOk, "ok"},
    {CudaState::kHidden, "hidden"},
    {CudaState::kNoDriver, "no-driver"},
    {CudaState::kNoDevice, "no-device"},
    {CudaState::kOldDriver, "old-driver"},
};

struct Preset {
  std::string_view name;
  int gpus;
  CudaState cuda;
};

constexpr Preset kPresets[] = {
    {"missing-gpu", 0, CudaState::kOk},
    {"cuda-hidden", 1, CudaState::kHidden},
    {"no-device", 1, CudaState::kNoDevice},
    {"old-driver", 1, CudaState::kOldDriver},
    {"single-gpu", 1, CudaState::kOk},
    {"dual-gpu", 2, CudaState::kOk},
};

std::string VisibleList(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(i);
  return s;
}

}  // namespace

std::string_view CudaStateName(CudaState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "ok";
}

std::optional<CudaState> CudaStateFromName(std::string_view name) {
  for (const auto& [state, n] : kStateNames) {
    if (n == name) return state;
  }
  return std::nullopt;
}

std::optional<EnvironmentSpec> EnvironmentPreset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) {
      EnvironmentSpec env;
      env.name = std::string(name);
      env.gpus = p.gpus;
      env.cuda = p.cuda;
      return env;
    }
  }
  return std::nullopt;
}

std::string_view BackendName(Backend b) {
  return b == Backend::kVirtual ? "virtual" : "real";
}

Backend DefaultBackend() {
  return VirtualCudaLinked() ? Backend::kVirtual : Backend::kReal;
}

HostFacts HostFacts::Probe(const std::string& argv0) {
  HostFacts facts;
  if (DIR* dir = opendir("/dev")) {
    while (dirent* e = readdir(dir)) {
      const char* n = e->d_name;
      if (std::strncmp(n, "nvidia", 6) == 0 && n[6] >= '0' && n[6] <= '9') {
        ++facts.physical_gpus;
      }
    }
    closedir(dir);
  }
  // Loading the driver library runs no CUDA code (cuInit is not called).
  if (void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
    facts.driver_present = true;
    dlclose(h);
  }
  Result<std::string> stand_in = FindDriverFaultStandIn(argv0);
  if (stand_in.ok()) facts.driver_stand_in = *stand_in;
  return facts;
}

bool CanRealize(const EnvironmentSpec& env, Backend backend, const HostFacts& host,
                std::string* why_not) {
  if (backend == Backend::kVirtual) {
    if (!VirtualCudaLinked()) {
      *why_not = "virtual backend needs the CPU-only LibTorch leg";
      return false;
    }
    if (env.cuda == CudaState::kOldDriver) {
      *why_not = "an old driver is not simulated by virtual devices; the real backend (CUDA leg) injects it";
      return false;
    }
    return true;
  }
  // Real backend.
  if (VirtualCudaLinked()) {
    *why_not = "real backend needs a CUDA build of LibTorch";
    return false;
  }
  switch (env.cuda) {
    case CudaState::kOk:
      if (env.gpus > host.physical_gpus) {
        *why_not = "needs " + std::to_string(env.gpus) + " GPU(s), host has " +
                   std::to_string(host.physical_gpus);
        return false;
      }
      if (env.gpus == 0 && host.physical_gpus > 0) return true;  // hidden via CUDA_VISIBLE_DEVICES
      return true;
    case CudaState::kHidden:
      return true;
    case CudaState::kNoDriver:
    case CudaState::kNoDevice:
    case CudaState::kOldDriver:
      if (env.cuda == CudaState::kNoDriver && !host.driver_present) return true;
      if (host.driver_present) {
        // LibTorch's CUDA libraries load libcuda.so.1 while the process
        // starts, so a forked worker cannot swap the driver any more.
        *why_not = "host has an NVIDIA driver that LibTorch loads at start-up; " +
                   std::string(CudaStateName(env.cuda)) + " is injected on driverless hosts";
        return false;
      }
      if (host.driver_stand_in.empty()) {
        *why_not = "driver stand-in (harness/env/driver_fault) not found";
        return false;
      }
      return true;
  }
  return false;
}

bool CanRealizeForProcess(const EnvironmentSpec& env, const HostFacts& host, std::string* why_not) {
  if (env.memory_per_gpu > 0) {
    *why_not = "memory_per_gpu cannot be imposed on another process";
    return false;
  }
  switch (env.cuda) {
    case CudaState::kOk:
      if (env.gpus > host.physical_gpus) {
        *why_not = "needs " + std::to_string(env.gpus) + " GPU(s), host has " +
                   std::to_string(host.physical_gpus) + " (virtual devices do not reach other processes)";
        return false;
      }
      return true;
    case CudaState::kHidden:
      return true;
    case CudaState::kNoDriver:
      if (!host.driver_present) return true;
      [[fallthrough]];
    case CudaState::kNoDevice:
    case CudaState::kOldDriver:
      if (host.driver_stand_in.empty()) {
        *why_not = "driver stand-in (harness/env/driver_fault) not found";
        return false;
      }
      return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> ProcessEnvironment(const EnvironmentSpec& env,
                                                                    const HostFacts& host) {
  std::vector<std::pair<std::string, std::string>> vars;
  std::string visible = env.visible_devices;
  if (visible.empty()) visible = env.cuda == CudaState::kHidden ? "" : VisibleList(env.gpus);
  vars.emplace_back("CUDA_VISIBLE_DEVICES", visible);
  bool fault = env.cuda == CudaState::kNoDevice || env.cuda == CudaState::kOldDriver ||
               (env.cuda == CudaState::kNoDriver && host.driver_present);
  if (fault && !host.driver_stand_in.empty()) {
    const char* inherited = std::getenv("LD_LIBRARY_PATH");
    auto fault_kind = DriverFaultFromName(CudaStateName(env.cuda));
    if (fault_kind) {
      for (auto& v : DriverFaultEnvironment(host.driver_stand_in, *fault_kind, inherited ? inherited : "")) {
        vars.push_back(std::move(v));
      }
    }
  }
  return vars;
}

Status Realize(const EnvironmentSpec& env, Backend backend, const HostFacts& host) {
  if (backend == Backend::kVirtual) {
    VirtualCudaConfig config;
    config.device_count = env.ExpectedDeviceCount();
    if (env.memory_per_gpu > 0) {
      config.capacity_bytes.assign(config.device_count, env.memory_per_gpu);
    }
    ConfigureVirtualCuda(config);
  } else {
    std::string visible = env.visible_devices;
    if (visible.empty()) {
      visible = env.cuda == CudaState::kHidden ? "" : VisibleList(env.gpus);
    }
    setenv("CUDA_VISIBLE_DEVICES", visible.c_str(), 1);
    if (env.cuda == CudaState::kNoDevice || env.cuda == CudaState::kOldDriver ||
        (env.cuda == CudaState::kNoDriver && host.driver_present)) {
      Status installed = InstallDriverFault(host.driver_stand_in, CudaStateName(env.cuda));
      if (!installed.ok()) return installed;
    }
  }
  int seen = static_cast<int>(torch::cuda::device_count());
  if (seen != env.ExpectedDeviceCount()) {
    return Status(ErrorClass::kEnvNotRealized,
                  "environment '" + env.name + "' wants " +
                      std::to_string(env.ExpectedDeviceCount()) +
                      " CUDA device(s); LibTorch reports " + std::to_string(seen));
  }
  if (backend == Backend::kReal && env.memory_per_gpu > 0) {
#if HARNESS_TORCH_HAS_CUDA
    // setMemoryFraction needs the caching allocator, which CUDA's lazy
    // initialisation creates.
    at::globalContext().lazyInitCUDA();
    for (int d = 0; d < seen; ++d) {
      size_t free_bytes = 0, total_bytes = 0;
      cudaSetDevice(d);
      if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess || total_bytes == 0) {
        return Status(ErrorClass::kEnvNotRealized, "cannot read the memory of cuda:" + std::to_string(d));
      }
      double fraction = double(env.memory_per_gpu) / double(total_bytes);
      c10::cuda::CUDACachingAllocator::setMemoryFraction(std::min(fraction, 1.0), d);
    }
#else
    return Status(ErrorClass::kEnvNotRealized, "memory_per_gpu on real devices needs a CUDA build");
#endif
  }
  return OkStatus();
}

}  // namespace harness::env
