#include "harness/env/environment.h"

#include <gtest/gtest.h>

namespace harness::env {
namespace {

TEST(EnvironmentPreset, PresetsDescribeTheArticlesSituations) {
  EXPECT_EQ(EnvironmentPreset("missing-gpu")->ExpectedDeviceCount(), 0);
  EXPECT_EQ(EnvironmentPreset("cuda-hidden")->cuda, CudaState::kHidden);
  EXPECT_EQ(EnvironmentPreset("cuda-hidden")->ExpectedDeviceCount(), 0);
  EXPECT_EQ(EnvironmentPreset("dual-gpu")->ExpectedDeviceCount(), 2);
  EXPECT_FALSE(EnvironmentPreset("quad-tpu").has_value());
}

TEST(CanRealize, RealBackendSkipsMoreGpusThanTheHostHas) {
  HostFacts one_gpu{.physical_gpus = 1, .driver_present = true};
  std::string why;
  bool ok = CanRealize(*EnvironmentPreset("dual-gpu"), Backend::kReal, one_gpu, &why);
  EXPECT_FALSE(ok);
  if (DefaultBackend() == Backend::kReal) {
    EXPECT_EQ(why, "needs 2 GPU(s), host has 1");
  }
}

TEST(CanRealize, VirtualBackendDoesNotPretendToHaveAnOldDriver) {
  std::string why;
  EXPECT_FALSE(CanRealize(*EnvironmentPreset("old-driver"), Backend::kVirtual, HostFacts{}, &why));
  EXPECT_FALSE(why.empty());
}

TEST(Realize, DefaultBackendRealizesMissingGpu) {
  // This process never touched CUDA: on the real backend the empty
  // CUDA_VISIBLE_DEVICES hides every device; virtual devices are set to 0.
  Status s = Realize(*EnvironmentPreset("missing-gpu"), DefaultBackend(), HostFacts::Probe());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace harness::env
