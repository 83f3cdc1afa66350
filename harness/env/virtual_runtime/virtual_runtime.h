// Virtual CUDA devices for processes the harness did not write: a Python
// loader on PyPI's CUDA-enabled torch, a user's own C++ loader. The
// library libharness_virtual_cuda.so (virtual_cuda_runtime.cc) is a CUDA
// runtime over host memory; preloaded into a process, it answers the CUDA
// runtime calls that LibTorch's CUDA build makes, in place of the real
// libcudart, so that on a machine with no GPU and no driver
//
//   export HARNESS_VIRTUAL_CUDA='2;0,1073741824'   # cuda:1 has 1 GiB
//   export LD_PRELOAD=.../libharness_virtual_cuda.so
//   python -c 'import torch; print(torch.cuda.device_count())'   # prints 2
//
// `torch.cuda.is_available()`, `device_count()`, `torch.load` with or without
// `map_location`, `.to("cuda:1")`, `torch.cuda.device(...)` and the caching
// allocator all work, on devices whose memory is host memory. What it
// promises (pinned by virtual_runtime_test and the scenarios):
//   - the device count is the spec's, filtered by CUDA_VISIBLE_DEVICES as the
//     real runtime filters it (a list of indices, cut at the first invalid
//     one; "" hides every device);
//   - a bad ordinal is cudaErrorInvalidDevice ("invalid device ordinal"), no
//     device is cudaErrorNoDevice, as from the real runtime;
//   - an allocation over a device's capacity is cudaErrorMemoryAllocation, so
//     torch raises torch.OutOfMemoryError with its own message;
//   - every copy is counted by source and destination device (host = -1),
//     every allocation and release by device, with each device's peak;
//   - a kernel launch fails with cudaErrorNotSupported: virtual devices hold
//     and move bytes, they do not compute.
// The library also carries the soname libcuda.so.1 and the few driver entry
// points LibTorch asks for (cuDevicePrimaryCtxGetState, ...), so no real
// driver is loaded beside it.
//
// The counts reach the harness through the CUPTI injection library
// (harness/recorder/cupti/injection.cc), preloaded beside it: it asks
// harness_virtual_cuda_tally() (tally.h) where it would ask CUPTI, and writes
// the same per-process reports.
#ifndef HARNESS_ENV_VIRTUAL_RUNTIME_VIRTUAL_RUNTIME_H_
#define HARNESS_ENV_VIRTUAL_RUNTIME_VIRTUAL_RUNTIME_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/status.h"

namespace harness::env {

// The variable the library reads its devices from, once, at its first call.
inline constexpr char kVirtualCudaEnvVar[] = "HARNESS_VIRTUAL_CUDA";
// Names the library for FindVirtualCudaRuntime (outside Bazel's runfiles).
inline constexpr char kVirtualCudaLibEnvVar[] = "HARNESS_VIRTUAL_CUDA_LIB";
// At most this many virtual devices, as for the in-process backend.
inline constexpr int kMaxVirtualRuntimeDevices = 16;
// What cudaMemGetInfo and the device properties report for a device without
// a capacity: an H100's 80 GiB.
inline constexpr int64_t kUnlimitedDeviceBytes = int64_t{80} << 30;

struct VirtualRuntimeSpec {
  int device_count = 0;
  // Bytes per device; missing entries or 0 mean unlimited.
  std::vector<int64_t> capacity_bytes;

  bool operator==(const VirtualRuntimeSpec& o) const {
    return device_count == o.device_count && capacity_bytes == o.capacity_bytes;
  }
};

// "<count>" or "<count>;<bytes>,<bytes>,...": "2;0,1073741824" is two
// devices, the second with 1 GiB.
std::string FormatVirtualRuntimeSpec(const VirtualRuntimeSpec& spec);
// kInvalidArgument, naming what is wrong, for anything else (a count out of
// [0, 16], more capacities than devices, a negative or non-numeric field).
Result<VirtualRuntimeSpec> ParseVirtualRuntimeSpec(const std::string& text);

// Absolute path of libharness_virtual_cuda.so: $HARNESS_VIRTUAL_CUDA_LIB,
// the runfiles of `argv0`, or next to the binary (the GPU bundle).
// kEnvNotRealized when it is not there (a build without the CUDA Toolkit).
Result<std::string> FindVirtualCudaRuntime(const std::string& argv0 = "");

// For a binary on a CUDA build that wants virtual devices in its own process
// (replay --backend virtual): runs this program again (/proc/self/exe, same
// argv) with `library` preloaded. Returns only when it cannot (an exec that
// failed, or a second attempt: the variable it sets stops loops), with why.
Status ReexecWithVirtualCudaRuntime(const std::string& library, char** argv);
// In the program run again: puts LD_PRELOAD back as it was, so that the
// processes it starts do not inherit the runtime unless given it.
void RestorePreloadAfterReexec();

// Whether the runtime is loaded into this process (preloaded: the replay
// re-executes itself so on a CUDA build with --backend virtual).
bool VirtualCudaRuntimeLoaded();

// In a process that has it loaded, before LibTorch first counts devices:
// makes `spec`'s devices the ones the process sees (CUDA_VISIBLE_DEVICES as
// set, or all) and starts the counts afresh. kEnvNotRealized when the
// runtime is not loaded or refuses the spec.
Status ReconfigureVirtualCudaRuntime(const VirtualRuntimeSpec& spec);

}  // namespace harness::env

#endif  // HARNESS_ENV_VIRTUAL_RUNTIME_VIRTUAL_RUNTIME_H_
