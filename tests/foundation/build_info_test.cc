// The generated build constants describe the LibTorch actually linked.
#include <c10/core/CPUAllocator.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <string>

#include "cuda_toolkit/cuda_toolkit_info.h"
#include "harness/compat/torch_compat.h"

namespace {

std::string LoadedLibraryOf(const void* symbol) {
  Dl_info info;
  if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return info.dli_fname;
  return resolved;
}

TEST(BuildInfo, HeaderVersionMatchesRepositoryRule) {
  EXPECT_EQ(TORCH_VERSION_MAJOR, harness::compat::kTorchMajor);
  EXPECT_EQ(TORCH_VERSION_MINOR, harness::compat::kTorchMinor);
}

TEST(BuildInfo, LinkedLibraryComesFromTheConfiguredLibdir) {
  // c10::GetCPUAllocator lives in libc10; at::empty in libtorch_cpu.
  std::string c10 = LoadedLibraryOf(reinterpret_cast<const void*>(&c10::GetCPUAllocator));
  ASSERT_FALSE(c10.empty());
  char libdir[PATH_MAX];
  if (realpath(HARNESS_TORCH_LIBDIR, libdir) != nullptr) {
    EXPECT_EQ(c10.rfind(libdir, 0), 0u) << c10 << " is not under " << libdir;
  } else {
    // Run on another machine (a GPU runner) against its own LibTorch.
    EXPECT_NE(c10.find("libc10.so"), std::string::npos) << c10;
  }
  std::string mm = std::to_string(harness::compat::kTorchMajor) + "." + std::to_string(harness::compat::kTorchMinor);
  if (c10.find(".so.") != std::string::npos) {  // Debian's versioned sonames.
    EXPECT_NE(c10.find(".so." + mm), std::string::npos) << c10;
  }
}

TEST(BuildInfo, CudaBuildFlagMatchesLinkedLibraries) {
  void* cuda_lib = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_NOLOAD);
  EXPECT_EQ(cuda_lib != nullptr, harness::compat::kTorchHasCuda);
  EXPECT_EQ(torch::cuda::is_available() && !harness::compat::kTorchHasCuda, false);
}

TEST(BuildInfo, CudaToolkitWasFound) {
  if (!HARNESS_CUDA_TOOLKIT_FOUND) GTEST_SKIP() << "no CUDA Toolkit on this host";
  EXPECT_GE(HARNESS_CUDA_TOOLKIT_VERSION, 11000);
}

}  // namespace
