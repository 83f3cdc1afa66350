// The virtual backend in a CUDA build of LibTorch: not available. The
// environment layer checks VirtualCudaLinked() and uses real devices instead.
#include "harness/env/virtual_cuda/virtual_cuda.h"

namespace harness::env {

bool VirtualCudaLinked() { return false; }
void ConfigureVirtualCuda(const VirtualCudaConfig&) {}
VirtualCudaConfig CurrentVirtualCudaConfig() { return {}; }
VirtualDeviceMemory VirtualCudaMemory(int) { return {}; }
void ResetVirtualCudaStats() {}
void SetVirtualCopyObserver(VirtualCopyObserver) {}

}  // namespace harness::env
