#include "harness/env/environment_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness/env/virtual_runtime/virtual_runtime.h"

namespace harness::env {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(EnvironmentPresetTest, PresetsDescribeTheArticlesSituations) {
  EXPECT_EQ(EnvironmentPreset("missing-gpu")->ExpectedDeviceCount(), 0);
  EXPECT_EQ(EnvironmentPreset("cuda-hidden")->cuda, CudaState::kHidden);
  EXPECT_EQ(EnvironmentPreset("cuda-hidden")->ExpectedDeviceCount(), 0);
  EXPECT_EQ(EnvironmentPreset("dual-gpu")->ExpectedDeviceCount(), 2);
  EXPECT_FALSE(EnvironmentPreset("quad-tpu").has_value());
  EXPECT_EQ(EnvironmentPresetList(), "missing-gpu, cuda-hidden, no-device, old-driver, single-gpu, dual-gpu");
}

TEST(CudaStateTest, NamesRoundTripAndListForMessages) {
  for (const CudaStateInfo& info : kCudaStates) EXPECT_EQ(CudaStateFromName(info.name), info.state);
  EXPECT_EQ(CudaStateFromName("on-fire"), std::nullopt);
  EXPECT_EQ(CudaStateList(), "ok, hidden, no-driver, no-device or old-driver");
  EXPECT_EQ(CudaStateList(/*driver_faults_only=*/true), "no-driver, no-device or old-driver");
}

HostFacts Host(int gpus, bool driver, bool stand_in, bool virtual_cuda) {
  HostFacts h;
  h.physical_gpus = gpus;
  h.driver_present = driver;
  h.driver_stand_in = stand_in ? "/lib/stand-in/libcuda.so.1" : "";
  h.virtual_cuda_linked = virtual_cuda;
  return h;
}

HostFacts WithVirtualRuntime(HostFacts h) {
  h.virtual_cuda_runtime = "/lib/libharness_virtual_cuda.so";
  return h;
}

// One row per rule of CanRealize and CanRealizeForProcess: a preset on a
// host, and the reason it cannot run there ("" = it can).
struct RealizeRow {
  const char* preset;
  Backend backend;
  HostFacts host;
  const char* in_process;   // CanRealize
  const char* for_process;  // CanRealizeForProcess
};

TEST(CanRealizeTest, EveryRuleOnEveryKindOfHost) {
  const HostFacts cpu_leg = Host(0, false, false, /*virtual_cuda=*/true);
  const HostFacts driverless = Host(0, false, true, false);
  const HostFacts no_stand_in = Host(0, false, false, false);
  const HostFacts one_gpu = Host(1, true, true, false);
  const HostFacts cpu_leg_runtime = WithVirtualRuntime(cpu_leg);
  const HostFacts driverless_runtime = WithVirtualRuntime(driverless);
  const RealizeRow kRows[] = {
      {"dual-gpu", Backend::kVirtual, cpu_leg, "",
       "needs 2 GPU(s), host has 0 (the virtual CUDA runtime, harness/env/virtual_runtime, was not found)"},
      {"dual-gpu", Backend::kVirtual, cpu_leg_runtime, "", ""},
      {"single-gpu", Backend::kVirtual, driverless_runtime, "virtual backend needs the CPU-only LibTorch leg, or the virtual CUDA runtime loaded (replay does it)", ""},
      {"old-driver", Backend::kVirtual, cpu_leg_runtime,
       "virtual devices do not simulate old-driver; the real backend (CUDA leg) injects it",
       "driver stand-in (harness/env/driver_fault) not found"},
      {"single-gpu", Backend::kReal, WithVirtualRuntime(cpu_leg), "real backend needs a CUDA build of LibTorch",
       "needs 1 GPU(s), host has 0"},
      {"old-driver", Backend::kVirtual, cpu_leg,
       "virtual devices do not simulate old-driver; the real backend (CUDA leg) injects it",
       "driver stand-in (harness/env/driver_fault) not found"},
      {"single-gpu", Backend::kVirtual, driverless, "virtual backend needs the CPU-only LibTorch leg, or the virtual CUDA runtime loaded (replay does it)",
       "needs 1 GPU(s), host has 0 (the virtual CUDA runtime, harness/env/virtual_runtime, was not found)"},
      {"single-gpu", Backend::kReal, cpu_leg, "real backend needs a CUDA build of LibTorch",
       "needs 1 GPU(s), host has 0"},
      {"dual-gpu", Backend::kReal, one_gpu, "needs 2 GPU(s), host has 1", "needs 2 GPU(s), host has 1"},
      {"single-gpu", Backend::kReal, one_gpu, "", ""},
      {"missing-gpu", Backend::kReal, one_gpu, "", ""},
      {"cuda-hidden", Backend::kReal, one_gpu, "", ""},
      {"no-device", Backend::kReal, driverless, "", ""},
      {"old-driver", Backend::kReal, driverless, "", ""},
      {"no-device", Backend::kReal, no_stand_in, "driver stand-in (harness/env/driver_fault) not found",
       "driver stand-in (harness/env/driver_fault) not found"},
      {"no-device", Backend::kReal, one_gpu,
       "host has an NVIDIA driver that LibTorch loads at start-up; no-device is injected on driverless hosts", ""},
  };
  for (const RealizeRow& row : kRows) {
    const EnvironmentSpec env = *EnvironmentPreset(row.preset);
    std::string why;
    EXPECT_EQ(CanRealize(env, row.backend, row.host, &why), std::string(row.in_process).empty())
        << row.preset << " / " << BackendName(row.backend);
    EXPECT_EQ(why, row.in_process) << row.preset;
    why.clear();
    EXPECT_EQ(CanRealizeForProcess(env, row.backend, row.host, &why), std::string(row.for_process).empty())
        << row.preset;
    EXPECT_EQ(why, row.for_process) << row.preset;
  }
}

TEST(CanRealizeTest, NoDriverNeedsNoStandInOnADriverlessHost) {
  EnvironmentSpec env = *EnvironmentPreset("missing-gpu");
  env.cuda = CudaState::kNoDriver;
  std::string why;
  EXPECT_TRUE(CanRealize(env, Backend::kReal, Host(0, false, false, false), &why)) << why;
  EXPECT_FALSE(CanRealize(env, Backend::kReal, Host(0, true, true, false), &why));
  EXPECT_FALSE(NeedsDriverStandIn(env, Host(0, false, false, false)));
  EXPECT_TRUE(NeedsDriverStandIn(env, Host(1, true, true, false)));
}

TEST(CanRealizeForProcessTest, MemoryLimitsReachAnotherProcessOnlyOnVirtualDevices) {
  EnvironmentSpec env = *EnvironmentPreset("single-gpu");
  env.memory_per_gpu = 1 << 20;
  std::string why;
  EXPECT_FALSE(CanRealizeForProcess(env, Backend::kReal, Host(1, true, true, false), &why));
  EXPECT_EQ(why, "memory_per_gpu cannot be imposed on another process's real GPUs");
  EXPECT_TRUE(CanRealizeForProcess(env, Backend::kVirtual, WithVirtualRuntime(Host(0, false, true, true)), &why));
}

TEST(ProcessEnvironmentTest, VisibleDevicesAndTheStandIn) {
  const HostFacts host = Host(2, false, true, false);
  EXPECT_THAT(ProcessEnvironment(*EnvironmentPreset("dual-gpu"), Backend::kReal, host, ""),
              ::testing::ElementsAre(Pair("CUDA_VISIBLE_DEVICES", "0,1")));
  EXPECT_THAT(ProcessEnvironment(*EnvironmentPreset("cuda-hidden"), Backend::kReal, host, ""),
              ::testing::ElementsAre(Pair("CUDA_VISIBLE_DEVICES", "")));
  auto faulty = ProcessEnvironment(*EnvironmentPreset("old-driver"), Backend::kReal, host, "/usr/lib");
  EXPECT_THAT(faulty, Contains(Pair("HARNESS_CUDA_FAULT", "old-driver")));
  EXPECT_THAT(faulty, Contains(Pair("LD_LIBRARY_PATH", "/lib/stand-in:/usr/lib")));
  EnvironmentSpec reordered = *EnvironmentPreset("dual-gpu");
  reordered.visible_devices = "1,0";
  EXPECT_THAT(ProcessEnvironment(reordered, Backend::kReal, host, ""), Contains(Pair("CUDA_VISIBLE_DEVICES", "1,0")));
}

TEST(ProcessEnvironmentTest, VirtualDevicesThroughTheRuntime) {
  const HostFacts cpu_leg = WithVirtualRuntime(Host(0, false, true, true));
  EnvironmentSpec dual = *EnvironmentPreset("dual-gpu");
  dual.memory_per_gpu = 1 << 20;
  EXPECT_THAT(ProcessEnvironment(dual, Backend::kVirtual, cpu_leg, ""),
              ::testing::ElementsAre(Pair("CUDA_VISIBLE_DEVICES", "0,1"),
                                     Pair("HARNESS_VIRTUAL_CUDA", "2;1048576,1048576")));
  // A driver fault is the stand-in's, virtual backend or not.
  EXPECT_THAT(ProcessEnvironment(*EnvironmentPreset("old-driver"), Backend::kVirtual, cpu_leg, ""),
              Contains(Pair("HARNESS_CUDA_FAULT", "old-driver")));
  EXPECT_FALSE(UsesVirtualRuntime(*EnvironmentPreset("missing-gpu"), Backend::kVirtual, cpu_leg));
  EXPECT_FALSE(UsesVirtualRuntime(dual, Backend::kReal, cpu_leg));
  dual.gpus = kMaxVirtualRuntimeDevices + 1;
  std::string why;
  EXPECT_FALSE(CanRealizeForProcess(dual, Backend::kVirtual, cpu_leg, &why));
  EXPECT_EQ(why, "needs 17 GPU(s); the virtual CUDA runtime plays at most 16");
}

TEST(EnvironmentTablesTest, DocsListEveryStateAndPreset) {
  std::ifstream in("docs/scenarios.md");
  ASSERT_TRUE(in) << "docs/scenarios.md is not in this test's runfiles";
  std::stringstream docs;
  docs << in.rdbuf();
  EXPECT_THAT(docs.str(), HasSubstr(EnvironmentTablesMarkdown()))
      << "docs/scenarios.md is out of date; paste this table in:\n"
      << EnvironmentTablesMarkdown();
}

}  // namespace
}  // namespace harness::env
