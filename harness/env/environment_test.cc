#include "harness/env/environment.h"

#include <gtest/gtest.h>

namespace harness::env {
namespace {

TEST(ProbeHostTest, ReportsThisBinarysLibTorch) {
  HostFacts host = ProbeHost();
  EXPECT_FALSE(host.torch_version.empty());
  EXPECT_EQ(host.virtual_cuda_linked, DefaultBackend() == Backend::kVirtual);
  EXPECT_NE(host.virtual_cuda_linked, host.torch_has_cuda);
}

TEST(RealizeTest, DefaultBackendRealizesMissingGpu) {
  // This process never touched CUDA: on the real backend the empty
  // CUDA_VISIBLE_DEVICES hides every device; virtual devices are set to 0.
  Status s = Realize(*EnvironmentPreset("missing-gpu"), DefaultBackend(), ProbeHost());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace harness::env
