// This machine and CI have no GPU: LibTorch must say CUDA is unavailable.
// On a GPU runner the test is skipped, never failed.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>

namespace {

bool HostHasNvidiaDevice() { return std::system("test -e /dev/nvidiactl") == 0; }

TEST(CudaUnavailable, LibTorchReportsNoCudaOnGpuLessHost) {
  if (HostHasNvidiaDevice()) GTEST_SKIP() << "host has an NVIDIA device";
  EXPECT_FALSE(torch::cuda::is_available());
  EXPECT_EQ(torch::cuda::device_count(), 0u);
}

}  // namespace
