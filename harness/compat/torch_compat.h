// The one place where LibTorch 1.13 (Debian's libtorch-dev) and 2.x (PyPI's
// torch wheel) differ for this project. Code elsewhere calls these helpers and
// never tests TORCH_VERSION itself.
//
//   #include "harness/compat/torch_compat.h"
//   if (harness::compat::kTorchHasCuda) { ... }
#ifndef HARNESS_COMPAT_TORCH_COMPAT_H_
#define HARNESS_COMPAT_TORCH_COMPAT_H_

#include <ATen/native/DispatchStub.h>

#include <string>

#include "libtorch/torch_build_info.h"

namespace harness::compat {

// Version of the LibTorch this binary was built against, e.g. "1.13.1".
inline constexpr const char* kTorchVersion = HARNESS_TORCH_VERSION;
inline constexpr int kTorchMajor = HARNESS_TORCH_VERSION_MAJOR;
inline constexpr int kTorchMinor = HARNESS_TORCH_VERSION_MINOR;
// True when the LibTorch in use was built with CUDA (the "cuda" leg).
inline constexpr bool kTorchHasCuda = HARNESS_TORCH_HAS_CUDA != 0;
// Where the build found LibTorch ("debian:libtorch-dev", "python:...", ...).
inline constexpr const char* kTorchSource = HARNESS_TORCH_SOURCE;

// Optional values passed to LibTorch: c10::optional in 1.13, an alias of
// std::optional in 2.x. Use c10::optional in APIs that hand them to LibTorch.

// c10::Allocator: allocate() is const in 1.13 and not in 2.x, and 2.x adds
// the pure virtual copy_data(). Allocators write
//   c10::DataPtr allocate(size_t n) HARNESS_ALLOCATE_CONST override;
//   HARNESS_ALLOCATOR_COPY_DATA
#if HARNESS_TORCH_VERSION_MAJOR >= 2
#define HARNESS_ALLOCATE_CONST
#define HARNESS_ALLOCATOR_COPY_DATA \
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
#define HARNESS_ALLOCATE_CONST const
#define HARNESS_ALLOCATOR_COPY_DATA
#endif

// True when `major.minor` of the LibTorch in use is at least the given one.
constexpr bool TorchAtLeast(int major, int minor) {
  return kTorchMajor > major || (kTorchMajor == major && kTorchMinor >= minor);
}

// The CUDA entry of a DispatchStub (e.g. at::native::copy_stub), to read or
// replace: `impl` is public in 1.13 and private in 2.x. A DispatchStub holds
// nothing but its DispatchStubImpl, so its address is the impl's.
template <typename Stub>
void*& CudaDispatchEntry(Stub& stub) {
  static_assert(sizeof(Stub) == sizeof(at::native::DispatchStubImpl),
                "DispatchStub layout changed: update torch_compat.h");
  return reinterpret_cast<at::native::DispatchStubImpl*>(&stub)->cuda_dispatch_ptr;
}

}  // namespace harness::compat

#endif  // HARNESS_COMPAT_TORCH_COMPAT_H_
