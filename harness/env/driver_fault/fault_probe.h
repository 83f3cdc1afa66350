// Test support for the tests that put one client of the driver (the CUDA
// runtime, LibTorch) in front of each fault of the stand-in: the fixture, the
// two ways to bring the stand-in in, and a main() that doubles as the probe.
//
//   class TorchFault : public testing::StandInTest<Expected> {};
//   TEST_P(TorchFault, ThroughLdLibraryPathInAFreshProcess) {
//     ChildResult r = ProbeFreshProcess(GetParam().fault, kProbeFlag);
//     ...
//   }
//   int main(int argc, char** argv) {
//     return testing::ProbeOrTestMain(argc, argv, kProbeFlag, &ProbeTorch);
//   }
#ifndef HARNESS_ENV_DRIVER_FAULT_FAULT_PROBE_H_
#define HARNESS_ENV_DRIVER_FAULT_FAULT_PROBE_H_

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "harness/env/driver_fault/driver_fault.h"
#include "harness/testing/child_probe.h"

namespace harness::testing {

using env::CudaState;
using env::CudaStateName;
using env::DriverFaultEnvironment;
using env::FindDriverFaultStandIn;
using env::InstallDriverFault;

// gtest's name for a test parameter of fault `fault`: "no_device".
std::string FaultTestName(CudaState fault);

// `probe` in a forked child, after InstallDriverFault(stand_in, fault).
ChildResult ProbeInstalled(const std::string& stand_in, CudaState fault, const std::function<std::string()>& probe);

// This binary started afresh as `binary flag`, with the stand-in on
// LD_LIBRARY_PATH (in front of the inherited one).
ChildResult ProbeFreshProcess(const std::string& stand_in, CudaState fault, const char* flag);

// The fixture: skips on hosts with an NVIDIA driver (the stand-in cannot go
// in front of a driver some library already loaded) and finds the stand-in.
template <typename Param>
class StandInTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (HostHasNvidiaDriver()) {
      GTEST_SKIP() << "host has an NVIDIA driver (/dev/nvidiactl)";
    }
    Result<std::string> path = FindDriverFaultStandIn("");
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    stand_in_ = path.value();
  }
  ChildResult ProbeInstalled(CudaState fault, const std::function<std::string()>& probe) const {
    return testing::ProbeInstalled(stand_in_, fault, probe);
  }
  ChildResult ProbeFreshProcess(CudaState fault, const char* flag) const {
    return testing::ProbeFreshProcess(stand_in_, fault, flag);
  }
  std::string stand_in_;
};

// main() of a test binary that is also its own probe: with argv
// {binary, flag} it prints what `probe` returns and exits 0; otherwise it
// runs the tests.
int ProbeOrTestMain(int argc, char** argv, const char* flag, std::string (*probe)());

}  // namespace harness::testing

#endif  // HARNESS_ENV_DRIVER_FAULT_FAULT_PROBE_H_
