// Virtual CUDA devices for CPU-only LibTorch builds.
//
// With this library linked into a CPU-only LibTorch process, `cuda:K` tensors
// exist: their memory is host memory, their DataPtrs are tagged
// Device(kCUDA, K), and LibTorch's own code paths (device guards, the
// dispatcher, torch::jit::load's device handling, `.to()`) run unchanged.
// That makes the GPU failure matrix (missing GPU, fewer GPUs than the saved
// index, limited device memory) reproducible on machines without a GPU.
//
//   harness::env::ConfigureVirtualCuda({.device_count = 1});
//   torch::jit::load("saved_on_cuda1.pt");  // throws: invalid device ordinal
//
// What it promises:
//   - torch::cuda::is_available() and device_count() report device_count;
//   - cuda:K with K >= device_count fails the way a real CUDA build does
//     ("CUDA error: invalid device ordinal");
//   - with no devices, touching CUDA fails like a CUDA build without a GPU;
//   - an allocation over a device's capacity throws c10::OutOfMemoryError
//     with a real CUDA build's message ("CUDA out of memory. Tried to
//     allocate ...");
//   - every copy to, from or between virtual devices goes through one kernel
//     (LibTorch's copy_stub), which counts its bytes exactly.
// In a CUDA build of LibTorch nothing is registered and VirtualCudaLinked()
// returns false (virtual_cuda_absent.cc).
#ifndef HARNESS_ENV_VIRTUAL_CUDA_VIRTUAL_CUDA_H_
#define HARNESS_ENV_VIRTUAL_CUDA_VIRTUAL_CUDA_H_

#include <cstdint>
#include <functional>
#include <vector>

namespace harness::env {

struct VirtualCudaConfig {
  int device_count = 0;
  // Capacity in bytes per device; missing entries or 0 mean unlimited.
  std::vector<int64_t> capacity_bytes;
};

// True when the virtual backend is compiled into this binary.
bool VirtualCudaLinked();

// Sets how many virtual devices exist and their capacities. Takes effect for
// every later query; existing virtual tensors stay valid.
void ConfigureVirtualCuda(const VirtualCudaConfig& config);
VirtualCudaConfig CurrentVirtualCudaConfig();

// Memory of one virtual device since the last ResetVirtualCudaStats().
struct VirtualDeviceMemory {
  int64_t allocated_bytes = 0;  // sum of all allocations
  int64_t allocation_count = 0;
  int64_t current_bytes = 0;  // held now
  int64_t peak_bytes = 0;     // highest current_bytes
};
VirtualDeviceMemory VirtualCudaMemory(int device);
// Zeroes the totals and sets each peak to the current level.
void ResetVirtualCudaStats();

// One copy through the virtual copy kernel. Device indices: -1 is the host.
struct VirtualCopy {
  int src_device = -1;
  int dst_device = -1;
  int64_t bytes = 0;  // bytes read from the source
};
// Called for every copy that involves a virtual device (nullptr to clear).
// The observer runs on the copying thread; keep it cheap.
using VirtualCopyObserver = std::function<void(const VirtualCopy&)>;
void SetVirtualCopyObserver(VirtualCopyObserver observer);

}  // namespace harness::env

#endif  // HARNESS_ENV_VIRTUAL_CUDA_VIRTUAL_CUDA_H_
