// The real CUDA runtime (this binary links libcudart) against each fault of
// the driver stand-in, and against no driver at all. The test process itself
// never calls CUDA: every probe runs in a child, either forked (the stand-in
// then comes in by InstallDriverFault's dlopen) or this binary started afresh
// with --cudart-probe (the stand-in then comes in by LD_LIBRARY_PATH).
//
// On this project's GPU-less CI, CUDA 13.0's runtime reports:
//   no-device   cudaGetDeviceCount -> 100 cudaErrorNoDevice, driver 13000
//   old-driver  cudaGetDeviceCount -> 35 cudaErrorInsufficientDriver, 9000
//   no-driver   cudaGetDeviceCount -> 35 cudaErrorInsufficientDriver, 0
//   no stand-in cudaGetDeviceCount -> 35 cudaErrorInsufficientDriver, 0
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "harness/env/driver_fault/driver_fault.h"
#include "harness/env/driver_fault/fault_probe.h"
#include "harness/testing/child_probe.h"

namespace harness::env {
namespace {

using ::harness::testing::ChildResult;
using ::harness::testing::Field;
using ::harness::testing::HostHasNvidiaDriver;
using ::harness::testing::RealDriverLoadable;
using ::harness::testing::RunInFork;
using ::harness::testing::RunSelf;

constexpr char kProbeFlag[] = "--cudart-probe";

// What the runtime says; the first CUDA runtime call of the process.
std::string ProbeRuntime() {
  int count = -1;
  cudaError_t count_error = cudaGetDeviceCount(&count);
  int version = -1;
  cudaError_t version_error = cudaDriverGetVersion(&version);
  return Field("count_error", std::to_string(count_error)) + Field("error_name", cudaGetErrorName(count_error)) +
         Field("version_error", std::to_string(version_error)) + Field("driver_version", std::to_string(version));
}

struct Expected {
  CudaState fault;
  cudaError_t count_error;
  int driver_version;
};

constexpr Expected kCases[] = {
    {CudaState::kNoDevice, cudaErrorNoDevice, CUDA_VERSION},
    {CudaState::kOldDriver, cudaErrorInsufficientDriver, 9000},
    {CudaState::kNoDriver, cudaErrorInsufficientDriver, 0},
};

void ExpectRuntimeSays(const ChildResult& r, cudaError_t count_error, int driver_version) {
  ASSERT_TRUE(r.exited && r.exit_code == 0) << "exit " << r.exit_code << " signal " << r.signal << ": " << r.raw;
  testing::Fields f = r.fields;
  EXPECT_EQ(f["count_error"], std::to_string(count_error)) << r.raw;
  EXPECT_EQ(f["version_error"], std::to_string(cudaSuccess)) << r.raw;
  EXPECT_EQ(f["driver_version"], std::to_string(driver_version)) << r.raw;
}

class CudartFault : public testing::StandInTest<Expected> {};

TEST_P(CudartFault, InstalledInARunningProcess) {
  const Expected e = GetParam();
  ChildResult r = ProbeInstalled(e.fault, &ProbeRuntime);
  ExpectRuntimeSays(r, e.count_error, e.driver_version);
}

TEST_P(CudartFault, ThroughLdLibraryPathInAFreshProcess) {
  const Expected e = GetParam();
  ChildResult r = ProbeFreshProcess(e.fault, kProbeFlag);
  ExpectRuntimeSays(r, e.count_error, e.driver_version);
}

INSTANTIATE_TEST_SUITE_P(Faults, CudartFault, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Expected>& info) {
                           return testing::FaultTestName(info.param.fault);
                         });

TEST(CudartNoDriver, NoLibcudaAtAllIsInsufficientDriverVersionZero) {
  if (HostHasNvidiaDriver() || RealDriverLoadable()) {
    GTEST_SKIP() << "a real libcuda.so.1 exists on this host";
  }
  ChildResult r = RunSelf({kProbeFlag}, {});
  ExpectRuntimeSays(r, cudaErrorInsufficientDriver, 0);
}

// The runtime looks for the driver once, at its first call: a stand-in that
// comes later is loaded but not used.
TEST(CudartNoDriver, InstallAfterTheRuntimeStartedHasNoEffect) {
  if (HostHasNvidiaDriver() || RealDriverLoadable()) {
    GTEST_SKIP() << "a real libcuda.so.1 exists on this host";
  }
  Result<std::string> path = FindDriverFaultStandIn("");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  const std::string stand_in = path.value();
  ChildResult r = RunInFork([&] {
    ProbeRuntime();  // the runtime finds no driver here
    Status s = InstallDriverFault(stand_in, CudaState::kNoDevice);
    if (!s.ok()) return Field("install", s.ToString());
    return ProbeRuntime();
  });
  ExpectRuntimeSays(r, cudaErrorInsufficientDriver, 0);
}

}  // namespace
}  // namespace harness::env

int main(int argc, char** argv) {
  return harness::testing::ProbeOrTestMain(argc, argv, harness::env::kProbeFlag, &harness::env::ProbeRuntime);
}
