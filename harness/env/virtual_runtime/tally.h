// What the virtual CUDA runtime (virtual_cuda_runtime.cc) counted in one
// process, handed to the CUPTI injection library in the same process. Both
// libraries are built by this project with one toolchain, so plain C++ types
// cross between them.
//
//   auto fn = reinterpret_cast<VirtualCudaTallyFn>(dlsym(RTLD_DEFAULT, kVirtualCudaTallySymbol));
//   VirtualCudaTally t;
//   if (fn != nullptr && fn(&t)) ... this process image used virtual devices ...
#ifndef HARNESS_ENV_VIRTUAL_RUNTIME_TALLY_H_
#define HARNESS_ENV_VIRTUAL_RUNTIME_TALLY_H_

#include <cstdint>
#include <vector>

namespace harness::env {

struct VirtualCudaCopies {
  int src = -1;  // device index; -1 is host memory
  int dst = -1;
  int64_t bytes = 0;
  int64_t count = 0;
};

struct VirtualCudaMemory {
  int device = 0;
  int64_t allocated_bytes = 0;  // sum of cudaMalloc sizes
  int64_t current_bytes = 0;    // allocated minus freed
  int64_t peak_bytes = 0;       // highest current_bytes
};

struct VirtualCudaTally {
  std::vector<VirtualCudaCopies> copies;
  std::vector<VirtualCudaMemory> memory;  // devices that allocated
};

// Fills `out` and returns true when this process image called the CUDA
// runtime (as the real driver's cuInit marks a process that used CUDA);
// false, leaving `out` alone, when it never did.
using VirtualCudaTallyFn = bool (*)(VirtualCudaTally* out);
inline constexpr char kVirtualCudaTallySymbol[] = "harness_virtual_cuda_tally";

}  // namespace harness::env

#endif  // HARNESS_ENV_VIRTUAL_RUNTIME_TALLY_H_
