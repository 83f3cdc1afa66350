#include "harness/env/environment.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "harness/base/files.h"
#include "harness/compat/torch_compat.h"
#include "harness/env/driver_fault/driver_fault.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
#include "harness/env/virtual_runtime/virtual_runtime.h"

#if HARNESS_TORCH_HAS_CUDA
#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace harness::env {
namespace {

// /dev/nvidia0, /dev/nvidia1, ...: one node per physical GPU.
int CountGpuNodes() {
  Result<std::vector<std::string>> names = ListDirectory("/dev");
  if (!names.ok()) return 0;
  return static_cast<int>(std::count_if(names->begin(), names->end(), [](const std::string& name) {
    return name.size() > 6 && name.rfind("nvidia", 0) == 0 && std::isdigit(static_cast<unsigned char>(name[6]));
  }));
}

// Caps the caching allocator of every visible device at `bytes`.
Status LimitDeviceMemory(int64_t bytes, int devices) {
#if HARNESS_TORCH_HAS_CUDA
  // setMemoryFraction needs the caching allocator, which CUDA's lazy
  // initialisation creates.
  at::globalContext().lazyInitCUDA();
  for (int d = 0; d < devices; ++d) {
    size_t free_bytes = 0, total_bytes = 0;
    cudaSetDevice(d);
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess || total_bytes == 0) {
      return Status(ErrorClass::kEnvNotRealized, "cannot read the memory of cuda:" + std::to_string(d));
    }
    const double fraction = double(bytes) / double(total_bytes);
    c10::cuda::CUDACachingAllocator::setMemoryFraction(std::min(fraction, 1.0), d);
  }
  return OkStatus();
#else
  return Status(ErrorClass::kEnvNotRealized, "memory_per_gpu on real devices needs a CUDA build");
#endif
}

}  // namespace

Backend DefaultBackend() { return VirtualCudaLinked() ? Backend::kVirtual : Backend::kReal; }

namespace {

// The kernel module's version line: "NVRM version: NVIDIA UNIX x86_64
// Kernel Module  580.159.04  Tue ..." -> "580.159.04".
std::string NvidiaDriverVersion() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  if (!std::getline(in, line)) return "";
  const size_t module = line.find("Kernel Module");
  if (module == std::string::npos) return "";
  std::istringstream words(line.substr(module + 13));
  std::string version;
  words >> version;
  return version;
}

// "Model: \t\t NVIDIA H100 80GB HBM3" of each /proc/driver/nvidia/gpus/*/information.
std::vector<std::string> NvidiaGpuModels() {
  std::vector<std::string> models;
  Result<std::vector<std::string>> gpus = ListDirectory("/proc/driver/nvidia/gpus");
  if (!gpus.ok()) return models;
  for (const std::string& gpu : *gpus) {
    std::ifstream in("/proc/driver/nvidia/gpus/" + gpu + "/information");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("Model:", 0) != 0) continue;
      const size_t start = line.find_first_not_of(" \t", 6);
      models.push_back(start == std::string::npos ? "" : line.substr(start));
      break;
    }
  }
  return models;
}

}  // namespace

HostFacts ProbeHost(const std::string& argv0) {
  HostFacts facts;
  facts.physical_gpus = CountGpuNodes();
  // Loading the driver library runs no CUDA code (cuInit is not called).
  // The virtual CUDA runtime carries the driver's soname; it is no driver.
  if (void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
    facts.driver_present = dlsym(h, "harness_virtual_cuda_tally") == nullptr;
    dlclose(h);
  }
  Result<std::string> stand_in = FindDriverFaultStandIn(argv0);
  if (stand_in.ok()) facts.driver_stand_in = *stand_in;
  Result<std::string> virtual_runtime = FindVirtualCudaRuntime(argv0);
  if (virtual_runtime.ok()) facts.virtual_cuda_runtime = *virtual_runtime;
  facts.virtual_cuda_runtime_loaded = VirtualCudaRuntimeLoaded();
  facts.virtual_cuda_linked = VirtualCudaLinked();
  facts.torch_has_cuda = compat::kTorchHasCuda;
  facts.torch_version = compat::kTorchVersion;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    int64_t kib = 0;
    meminfo >> kib;
    if (key == "MemAvailable:") facts.memory_available_bytes = kib * 1024;
    meminfo.ignore(1 << 10, '\n');
  }
  facts.driver_version = NvidiaDriverVersion();
  facts.gpu_models = NvidiaGpuModels();
  return facts;
}

Status Realize(const EnvironmentSpec& env, Backend backend, const HostFacts& host) {
  if (backend == Backend::kVirtual) {
    VirtualCudaConfig config;
    config.device_count = env.ExpectedDeviceCount();
    if (env.memory_per_gpu > 0) config.capacity_bytes.assign(config.device_count, env.memory_per_gpu);
    if (VirtualCudaLinked()) {
      ConfigureVirtualCuda(config);
    } else {
      // A CUDA build: the virtual CUDA runtime under LibTorch's own CUDA code.
      if (env.visible_devices.empty()) {
        unsetenv("CUDA_VISIBLE_DEVICES");
      } else {
        setenv("CUDA_VISIBLE_DEVICES", env.visible_devices.c_str(), 1);
      }
      Status configured = ReconfigureVirtualCudaRuntime({config.device_count, config.capacity_bytes});
      if (!configured.ok()) return configured;
    }
  } else {
    setenv("CUDA_VISIBLE_DEVICES", VisibleDevices(env).c_str(), 1);
    if (NeedsDriverStandIn(env, host)) {
      Status installed = InstallDriverFault(host.driver_stand_in, env.cuda);
      if (!installed.ok()) return installed;
    }
  }
  const int seen = static_cast<int>(torch::cuda::device_count());
  if (seen != env.ExpectedDeviceCount()) {
    return Status(ErrorClass::kEnvNotRealized, "environment '" + env.name + "' wants " +
                                                   std::to_string(env.ExpectedDeviceCount()) +
                                                   " CUDA device(s); LibTorch reports " + std::to_string(seen));
  }
  if (backend == Backend::kReal && env.memory_per_gpu > 0) return LimitDeviceMemory(env.memory_per_gpu, seen);
  return OkStatus();
}

}  // namespace harness::env
