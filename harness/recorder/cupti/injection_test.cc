// libharness_cupti_injection.so in real processes: this test binary started
// afresh with the injection environment (LD_PRELOAD, CUDA_INJECTION64_PATH,
// HARNESS_CUPTI_OUTPUT_DIR) runs a probe, and ReadInjectedTrace judges what
// the processes reported. Drivers: none (this project's CI), the driver-fault
// stand-in, a fake working driver (harness/testing/fake_driver.cc) that
// does or does not honour CUDA_INJECTION64_PATH, and on GPU hosts the real
// one.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "harness/env/driver_fault/driver_fault.h"
#include "harness/recorder/cupti/injected.h"
#include "harness/recorder/cupti/test_support.h"
#include "harness/testing/child_probe.h"

namespace harness::recorder::cupti {
namespace {

using ::harness::testing::ChildResult;
using ::harness::testing::HostHasNvidiaDriver;
using ::harness::testing::RunSelf;
using ::harness::testing::TestRunfile;
using ::testing::HasSubstr;

constexpr char kProbeFlag[] = "--injection-probe";
constexpr int64_t kCopyBytes = 1 << 20;

// What a probe process does, by name.
int Probe(const std::string& mode) {
  if (mode == "idle") return 0;
  if (mode == "hard-exit") _exit(0);
  if (mode == "killed") raise(SIGKILL);
  if (mode == "cuinit") {
    void* cuda = dlopen("libcuda.so.1", RTLD_NOW);
    if (cuda == nullptr) return 0;  // no driver: nothing to initialise
    auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(cuda, "cuInit"));
    std::printf("cuInit=%d\n", init != nullptr ? init(0) : -1);
    return 0;
  }
  if (mode == "driver-as-cuinit-would") {  // what the driver does in cuInit
    auto init = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "InitializeInjection"));
    return init != nullptr && init() == 1 ? 0 : 1;
  }
  if (mode == "cuinit-then-exec") {  // CUDA work, then another program
    Probe("cuinit");
    std::fflush(stdout);
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    return 3;
  }
  if (mode == "fork-child-killed" || mode == "fork-child-exits") {
    pid_t child = fork();
    if (child == 0) {
      if (mode == "fork-child-killed") raise(SIGKILL);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return 0;
  }
  if (mode == "cuinit-mark") {  // a load, then the loader's own checks
    Probe("cuinit");
    auto mark = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "harness_cupti_mark_loaded"));
    if (mark != nullptr) mark();
    return 0;
  }
  if (mode == "cuinit-mark-interrupted") {  // a handler ends it inside the tracer
    std::signal(SIGUSR1, [](int) { _exit(0); });
    return Probe("cuinit-mark");
  }
  if (mode == "cuinit-then-profiler-disables") {  // another CUPTI client
    Probe("cuinit");
    auto disable = reinterpret_cast<int (*)(int)>(dlsym(RTLD_DEFAULT, "cuptiActivityDisable"));
    if (disable != nullptr) disable(1);  // CUPTI_ACTIVITY_KIND_MEMCPY
    return 0;
  }
  if (mode == "copy") {
    std::string error = ::harness::recorder::cupti::testing::CopyThroughDriver(kCopyBytes);
    std::printf("copy_error=%s\n", error.c_str());
    return error.empty() ? 0 : 1;
  }
  if (mode == "copy-mark-copy") {  // the second copy is the loader's own check
    std::string error = ::harness::recorder::cupti::testing::CopyThroughDriver(kCopyBytes);
    auto mark = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "harness_cupti_mark_loaded"));
    if (mark != nullptr) mark();
    if (error.empty()) error = ::harness::recorder::cupti::testing::CopyThroughDriver(kCopyBytes);
    std::printf("copy_error=%s\n", error.c_str());
    return error.empty() ? 0 : 1;
  }
  if (mode == "copy-then-profiler-disables") {  // another CUPTI client
    std::string error = ::harness::recorder::cupti::testing::CopyThroughDriver(kCopyBytes);
    auto disable = reinterpret_cast<int (*)(int)>(dlsym(RTLD_DEFAULT, "cuptiActivityDisable"));
    if (disable != nullptr) disable(1);  // CUPTI_ACTIVITY_KIND_MEMCPY
    return error.empty() ? 0 : 1;
  }
  return 2;
}

std::string Dir(const std::string& file) { return file.substr(0, file.rfind('/')); }

class InjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> lib = FindInjectionLibrary();
    ASSERT_TRUE(lib.ok()) << lib.status().ToString();
    library_ = *lib;
    char pattern[] = "/tmp/cupti-injection-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // Runs the probe `mode` under the injection environment plus `extra`.
  ChildResult Run(const std::string& mode, std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto env = InjectionEnvironment(library_, dir_);
    env.insert(env.end(), extra.begin(), extra.end());
    return RunSelf({kProbeFlag, mode}, env);
  }
  // The fake working driver's directory, for LD_LIBRARY_PATH, or "" outside
  // Bazel (the GPU bundle carries no test data).
  std::string FakeDriverDir() {
    std::string path = TestRunfile("harness/testing/libcuda.so.1");
    return path.empty() ? "" : Dir(path);
  }

  // The fake working driver that calls InitializeInjection, with the fake
  // CUPTI (testdata/fake_cupti.cc) handing back `flushes`: the whole
  // injected path, CUPTI's records included, without a GPU.
  std::vector<std::pair<std::string, std::string>> FakeGpu(const std::string& flushes) {
    return {{"LD_LIBRARY_PATH", FakeDriverDir()},
            {"FAKE_DRIVER_INJECTS", "1"},
            {"HARNESS_CUPTI_LIBRARY", TestRunfile("harness/recorder/cupti/testdata/libcupti_fake.so")},
            {"FAKE_CUPTI_FLUSHES", flushes}};
  }

  std::string library_;
  std::string dir_;
};

// The cases that need harness/testing/libcuda.so.1, a fake working
// driver.
class InjectionWithFakeDriverTest : public InjectionTest {
 protected:
  void SetUp() override {
    if (FakeDriverDir().empty()) GTEST_SKIP() << "testdata/libcuda.so.1 is not in this binary's runfiles";
    InjectionTest::SetUp();
  }
};

// The cases that need a real GPU; skipped elsewhere.
class InjectionOnAGpuTest : public InjectionTest {
 protected:
  void SetUp() override {
    if (!HostHasNvidiaDriver()) GTEST_SKIP() << "no NVIDIA driver on this host";
    InjectionTest::SetUp();
  }
};

TEST_F(InjectionTest, AProcessWithoutAGpuIsMeasuredAndMovedNothing) {
  if (HostHasNvidiaDriver()) GTEST_SKIP() << "this host has an NVIDIA driver";
  ChildResult r = Run("cuinit");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_THAT(t.note, HasSubstr("no process of the command had a usable GPU"));
  ASSERT_EQ(t.processes.size(), 1u);
  EXPECT_FALSE(t.processes[0].injected);
  EXPECT_FALSE(t.processes[0].cuda_usable);
  EXPECT_TRUE(t.tally.Empty());
}

TEST_F(InjectionTest, UnderTheDriverFaultStandInNothingIsUsable) {
  Result<std::string> stand_in = env::FindDriverFaultStandIn("");
  ASSERT_TRUE(stand_in.ok()) << stand_in.status().ToString();
  ChildResult r = Run("cuinit", {{"LD_LIBRARY_PATH", Dir(*stand_in)}, {"HARNESS_CUDA_FAULT", "no-device"}});
  EXPECT_THAT(r.raw, HasSubstr("cuInit=100"));  // CUDA_ERROR_NO_DEVICE
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_FALSE(t.processes.at(0).cuda_usable);
}

TEST_F(InjectionTest, EveryProcessOfAShellCommandReports) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(n, 0);
  std::string command;
  for (const auto& [name, value] : InjectionEnvironment(library_, dir_)) command += name + "='" + value + "' ";
  command += "sh -c '\"$0\" " + std::string(kProbeFlag) + " idle; \"$0\" " + kProbeFlag + " idle' " +
             std::string(exe, static_cast<size_t>(n));
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_TRUE(t.measured) << t.why;
  EXPECT_GE(t.processes.size(), 2u);  // both probes, and the shell unless it exec'd the last
}

TEST_F(InjectionTest, AProcessLeavingThroughUnderscoreExitStillReports) {
  ChildResult r = Run("hard-exit");
  ASSERT_EQ(r.exit_code, 0);
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.processes.size(), 1u);
}

TEST_F(InjectionTest, AKilledProcessLeavesTheLoadUnmeasured) {
  ChildResult r = Run("killed");
  ASSERT_EQ(r.signal, SIGKILL);
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("ended without reporting (killed or crashed, or still running)"));
}

TEST_F(InjectionWithFakeDriverTest, ADriverThatIgnoresTheInjectionLeavesTheLoadUnmeasured) {
  ChildResult r = Run("cuinit", {{"LD_LIBRARY_PATH", FakeDriverDir()}});
  EXPECT_THAT(r.raw, HasSubstr("cuInit=0"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("may have used CUDA (cuDeviceGetCount: 0) but the driver never called the "
                               "injection library"));
}

TEST_F(InjectionWithFakeDriverTest, AnImageThatExecsAfterUsingCudaStillReports) {
  ChildResult r = Run("cuinit-then-exec", {{"LD_LIBRARY_PATH", FakeDriverDir()}});
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("may have used CUDA"));
  ASSERT_EQ(t.processes.size(), 2u);  // the probe's image and /bin/true's
  EXPECT_EQ(t.processes[0].pid, t.processes[1].pid);
}

TEST_F(InjectionTest, AForkedChildReportsToo) {
  ChildResult r = Run("fork-child-exits");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.processes.size(), 2u);
}

TEST_F(InjectionTest, AKilledForkedChildLeavesTheLoadUnmeasured) {
  ChildResult r = Run("fork-child-killed");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("ended without reporting"));
}

TEST_F(InjectionWithFakeDriverTest, InjectedButUntraceableIsUnmeasuredWithCuptisReason) {
  // The fake driver calls InitializeInjection as the real one does; CUPTI
  // then cannot work with a driver that is not NVIDIA's.
  ChildResult r = Run("cuinit", {{"LD_LIBRARY_PATH", FakeDriverDir()}, {"FAKE_DRIVER_INJECTS", "1"}});
  EXPECT_THAT(r.raw, HasSubstr("cuInit=0"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_FALSE(t.measured);
  ASSERT_EQ(t.processes.size(), 1u);
  EXPECT_TRUE(t.processes[0].injected);
  EXPECT_THAT(t.why, HasSubstr("CUPTI could not trace: "));
  EXPECT_EQ(t.processes[0].cuda_check, 0);  // the fake's cuDeviceGetCount
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuTheInjectedProcessesCopiesAreCounted) {
  ChildResult r = Run("cuinit", FakeGpu(";htod:1048576,dtoh:4096,alloc:2097152"));
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  ASSERT_EQ(t.processes.size(), 1u);
  EXPECT_TRUE(t.processes[0].injected);
  EXPECT_EQ(t.processes[0].cupti, "ok");
  EXPECT_EQ(t.tally.copies.at({kHost, 0}).bytes, 1048576);
  EXPECT_EQ(t.tally.copies.at({0, kHost}).bytes, 4096);
  EXPECT_EQ(t.tally.device_memory.at(0).peak_bytes, 2097152);
  EXPECT_EQ(t.note, "");
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuWhatFollowsTheLoadedMarkIsNotCounted) {
  // Flush 1 is the mark's, flush 2 the exit's: the digests' copies.
  Run("cuinit-mark", FakeGpu(";htod:1000;dtoh:1000"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.tally.copies.at({kHost, 0}).bytes, 1000);
  EXPECT_EQ(t.tally.copies.count({0, kHost}), 0u);
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuAnExitFromASignalHandlerInsideTheTracerDoesNotHang) {
  // The mark's flush raises SIGUSR1, whose handler calls _exit: the report
  // must not wait for the locks its own thread holds.
  ChildResult r = Run("cuinit-mark-interrupted", FakeGpu(";signal"));
  ASSERT_TRUE(r.exited) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("ended inside the CUPTI tracer"));
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuAnotherCuptiClientLeavesTheLoadUnmeasured) {
  Run("cuinit-then-profiler-disables", FakeGpu(";htod:1000"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("another CUPTI client in this process called cuptiActivityDisable"));
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuAnIncompleteRecordLeavesTheLoadUnmeasured) {
  Run("cuinit", FakeGpu(";htod:1000,incomplete"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("CUPTI dropped 1 records"));
}

TEST_F(InjectionWithFakeDriverTest, WithAFakeGpuAnImageThatExecsReportsItsCopiesFirst) {
  Run("cuinit-then-exec", FakeGpu(";htod:1000"));
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.processes.size(), 2u);
  EXPECT_EQ(t.tally.copies.at({kHost, 0}).bytes, 1000);
}

TEST_F(InjectionTest, ExportsItsEntryPointsAndNothingElse) {
  void* lib = dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  // injection.lds, whole.
  for (const char* name : {"InitializeInjection", "harness_cupti_mark_loaded", "_exit", "_Exit", "execve", "execv",
                           "execvp", "execvpe", "fexecve", "execl", "execlp", "execle",
                           "cuptiActivityRegisterCallbacks", "cuptiActivityDisable", "cuptiFinalize"}) {
    void* own = dlsym(lib, name);
    Dl_info info{};
    EXPECT_TRUE(own != nullptr && dladdr(own, &info) != 0 && std::string(info.dli_fname) == library_)
        << name << " is not exported by the library itself";
  }
  EXPECT_EQ(dlsym(lib, "_ZN7harness8recorder5cupti14ActivityTracer3GetEv"), nullptr);
}

TEST_F(InjectionOnAGpuTest, OnAGpuWhatFollowsTheLoadedMarkIsNotCounted) {
  ChildResult r = Run("copy-mark-copy");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.tally.copies.at({kHost, 0}).bytes, kCopyBytes);
}

TEST_F(InjectionOnAGpuTest, OnAGpuAnotherCuptiClientLeavesTheLoadUnmeasured) {
  Run("copy-then-profiler-disables");
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("another CUPTI client in this process called cuptiActivityDisable"));
}

TEST_F(InjectionOnAGpuTest, OnAGpuADriverToldNothingLeavesTheLoadUnmeasured) {
  // The real driver without CUDA_INJECTION64_PATH: the process copies, exits
  // through exit(), and its report must not read as "no GPU used".
  ChildResult r = Run("copy", {{"CUDA_INJECTION64_PATH", ""}});
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  EXPECT_FALSE(t.measured);
  EXPECT_THAT(t.why, HasSubstr("the driver never called the injection library"));
}

TEST_F(InjectionOnAGpuTest, OnAGpuTheCopiesOfAnotherProcessAreCounted) {
  ChildResult r = Run("copy");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  InjectedTrace t = ReadInjectedTrace(dir_);
  ASSERT_TRUE(t.measured) << t.why;
  EXPECT_EQ(t.tally.copies.at({kHost, 0}).bytes, kCopyBytes);
  EXPECT_EQ(t.tally.copies.at({0, kHost}).bytes, kCopyBytes);
  EXPECT_GE(t.tally.device_memory.at(0).allocated_bytes, kCopyBytes);
}

}  // namespace
}  // namespace harness::recorder::cupti

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], harness::recorder::cupti::kProbeFlag) == 0) {
    return harness::recorder::cupti::Probe(argv[2]);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
