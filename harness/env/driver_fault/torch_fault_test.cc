// LibTorch's CUDA build against each fault of the driver stand-in, and
// against no driver at all. Every probe runs in a child: forked after this
// process loaded LibTorch but before anything called CUDA (the stand-in then
// comes in by InstallDriverFault's dlopen), or this binary started afresh
// with --torch-probe (the stand-in then comes in by LD_LIBRARY_PATH).
//
// LibTorch 2.11.0+cu130 with CUDA 13.0's runtime, c10::Error::msg() of
// at::empty({1}, at::Device("cuda:0")), verbatim:
//   no-device:
//     No CUDA GPUs are available
//   old-driver:
//     The NVIDIA driver on your system is too old (found version 9000).
//     Please update your GPU driver by downloading and installing a new
//     version from the URL: http://www.nvidia.com/Download/index.aspx
//     Alternatively, go to: https://pytorch.org to install a PyTorch version
//     that has been compiled with your version of the CUDA driver.
//     (one line; wrapped here)
//   no-driver, and no libcuda.so.1 at all:
//     Found no NVIDIA driver on your system. Please check that you have an
//     NVIDIA GPU and installed a driver from
//     http://www.nvidia.com/Download/index.aspx
//     (one line; wrapped here)
// Only old-driver also warns, once, when is_available() first counts devices:
//   CUDA initialization: The NVIDIA driver on your system is too old (found
//   version 9000). ... (the same text as the error)
// In every case is_available() is false and device_count() is 0.
#include <ATen/ops/empty.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

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
using ::harness::testing::RunSelf;
using ::testing::HasSubstr;

constexpr char kProbeFlag[] = "--torch-probe";

constexpr char kNoDeviceMessage[] = "No CUDA GPUs are available";
constexpr char kOldDriverMessage[] = "The NVIDIA driver on your system is too old (found version 9000)";
constexpr char kNoDriverMessage[] = "Found no NVIDIA driver on your system";

class RecordingWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    if (!warnings_.empty()) warnings_ += "\n";
    warnings_ += warning.msg();
  }
  const std::string& warnings() const { return warnings_; }

 private:
  std::string warnings_;
};

// What LibTorch says; the first CUDA use of the process.
std::string ProbeTorch() {
  RecordingWarningHandler handler;
  c10::WarningUtils::set_warning_handler(&handler);
  std::string out;
  out += Field("available", torch::cuda::is_available() ? "1" : "0");
  out += Field("device_count", std::to_string(torch::cuda::device_count()));
  try {
    at::Tensor t = at::empty({1}, at::Device("cuda:0"));
    out += Field("threw", "0");
  } catch (const c10::Error& e) {
    out += Field("threw", "1");
    out += Field("message", e.msg());
  }
  out += Field("warnings", handler.warnings());
  c10::WarningUtils::set_warning_handler(nullptr);
  return out;
}

struct Expected {
  CudaState fault;
  const char* message;
  bool warns;
};

constexpr Expected kCases[] = {
    {CudaState::kNoDevice, kNoDeviceMessage, false},
    {CudaState::kOldDriver, kOldDriverMessage, true},
    {CudaState::kNoDriver, kNoDriverMessage, false},
};

void ExpectTorchSays(const ChildResult& r, const std::string& message, bool warns) {
  ASSERT_TRUE(r.exited && r.exit_code == 0) << "exit " << r.exit_code << " signal " << r.signal << ": " << r.raw;
  testing::Fields f = r.fields;
  EXPECT_EQ(f["available"], "0") << r.raw;
  EXPECT_EQ(f["device_count"], "0") << r.raw;
  ASSERT_EQ(f["threw"], "1") << r.raw;
  EXPECT_THAT(f["message"], HasSubstr(message));
  if (warns) {
    EXPECT_THAT(f["warnings"], HasSubstr("CUDA initialization: " + message));
  } else {
    EXPECT_EQ(f["warnings"], "");
  }
}

class TorchFault : public testing::StandInTest<Expected> {};

TEST_P(TorchFault, InstalledInARunningProcess) {
  const Expected e = GetParam();
  ChildResult r = ProbeInstalled(e.fault, &ProbeTorch);
  ExpectTorchSays(r, e.message, e.warns);
}

TEST_P(TorchFault, ThroughLdLibraryPathInAFreshProcess) {
  const Expected e = GetParam();
  ChildResult r = ProbeFreshProcess(e.fault, kProbeFlag);
  ExpectTorchSays(r, e.message, e.warns);
}

INSTANTIATE_TEST_SUITE_P(Faults, TorchFault, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Expected>& info) {
                           return testing::FaultTestName(info.param.fault);
                         });

TEST(TorchNoDriver, NoLibcudaAtAllSaysFoundNoDriver) {
  if (HostHasNvidiaDriver() || RealDriverLoadable()) {
    GTEST_SKIP() << "a real libcuda.so.1 exists on this host";
  }
  ChildResult r = RunSelf({kProbeFlag}, {});
  ExpectTorchSays(r, kNoDriverMessage, false);
}

}  // namespace
}  // namespace harness::env

int main(int argc, char** argv) {
  return harness::testing::ProbeOrTestMain(argc, argv, harness::env::kProbeFlag, &harness::env::ProbeTorch);
}
