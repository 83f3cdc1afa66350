// The helper's API, and the stand-in's own exports called directly. Anything
// that loads a library runs in a forked child, so this process stays clean.
#include "harness/env/driver_fault/driver_fault.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <memory>
#include <string>

#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/base/status.h"
#include "harness/testing/child_probe.h"

namespace harness::env {
namespace {

using ::harness::testing::ChildResult;
using ::harness::testing::Field;
using ::harness::testing::RunInFork;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string StandIn() {
  Result<std::string> path = FindDriverFaultStandIn("");
  EXPECT_TRUE(path.ok()) << path.status().ToString();
  return path.ok() ? path.value() : "";
}

std::string OtherDriver() { return testing::TestRunfile("harness/testing/libcuda.so.1"); }

std::string StatusFields(const Status& s) {
  return Field("class", std::string(ErrorClassName(s.error_class()))) + Field("message", s.message());
}

TEST(DriverFaultNames, TheStandInPlaysTheTablesDriverFaults) {
  EXPECT_EQ(CudaStateList(/*driver_faults_only=*/true), "no-driver, no-device or old-driver");
  EXPECT_EQ(CudaStateFromName("ok-but-zero-devices"), std::nullopt);
}

TEST(FindDriverFaultStandIn, FindsTheBuiltLibraryInRunfiles) {
  Result<std::string> path = FindDriverFaultStandIn("");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_THAT(path.value(), StartsWith("/"));
  EXPECT_THAT(path.value(), ::testing::EndsWith("/libcuda.so.1"));
}

TEST(FindDriverFaultStandIn, ExplicitPathWinsAndMustExist) {
  std::string real = StandIn();
  Result<std::string> found = FindDriverFaultStandIn("", real);
  ASSERT_TRUE(found.ok());
  Result<std::string> missing = FindDriverFaultStandIn("", "/nonexistent/libcuda.so.1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().error_class(), ErrorClass::kEnvNotRealized);
}

TEST(FindDriverFaultStandIn, EnvironmentVariableIsUsed) {
  ChildResult r = RunInFork([] {
    setenv(kDriverFaultLibEnvVar, "/nonexistent/libcuda.so.1", 1);
    Result<std::string> path = FindDriverFaultStandIn("");
    return StatusFields(path.status());
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized") << r.raw;
  EXPECT_THAT(r.fields["message"], HasSubstr("HARNESS_DRIVER_FAULT_LIB"));
}

TEST(DriverFaultEnvironment, PutsTheStandInDirectoryFirst) {
  auto env = DriverFaultEnvironment("/a/b/libcuda.so.1", CudaState::kOldDriver, "/x:/y");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].first, "LD_LIBRARY_PATH");
  EXPECT_EQ(env[0].second, "/a/b:/x:/y");
  EXPECT_EQ(env[1].first, "HARNESS_CUDA_FAULT");
  EXPECT_EQ(env[1].second, "old-driver");
  EXPECT_EQ(DriverFaultEnvironment("/a/libcuda.so.1", CudaState::kNoDevice, "")[0].second, "/a");
}

TEST(InstallDriverFault, RejectsUnknownModeAndRelativePath) {
  Status bad_mode = InstallDriverFault(StandIn(), CudaState::kHidden);
  EXPECT_EQ(bad_mode.error_class(), ErrorClass::kInvalidArgument);
  Status relative = InstallDriverFault("libcuda.so.1", CudaState::kNoDevice);
  EXPECT_EQ(relative.error_class(), ErrorClass::kInvalidArgument);
}

TEST(InstallDriverFault, MissingFileIsEnvNotRealized) {
  ChildResult r =
      RunInFork([] { return StatusFields(InstallDriverFault("/nonexistent/libcuda.so.1", CudaState::kNoDevice)); });
  EXPECT_EQ(r.fields["class"], "env-not-realized") << r.raw;
  EXPECT_THAT(r.fields["message"], HasSubstr("cannot load"));
}

TEST(InstallDriverFault, ALibraryThatIsNoStandInIsRefused) {
  ChildResult r = RunInFork([] {
    Dl_info info;
    dladdr(reinterpret_cast<void*>(&::setenv), &info);  // libc itself
    return StatusFields(InstallDriverFault(info.dli_fname, CudaState::kNoDevice));
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized") << r.raw;
  EXPECT_THAT(r.fields["message"], HasSubstr("not the harness driver"));
}

TEST(InstallDriverFault, AnAlreadyLoadedRealDriverIsEnvNotRealized) {
  std::string other = OtherDriver();
  std::string stand_in = StandIn();
  ChildResult r = RunInFork([&] {
    if (dlopen(other.c_str(), RTLD_NOW) == nullptr) {
      return Field("setup", dlerror());
    }
    return StatusFields(InstallDriverFault(stand_in, CudaState::kOldDriver));
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized") << r.raw;
  EXPECT_THAT(r.fields["message"], HasSubstr("real libcuda.so.1"));
}

TEST(InstallDriverFault, LoadsTheStandInUnderItsSoname) {
  std::string stand_in = StandIn();
  ChildResult r = RunInFork([&] {
    std::string out = StatusFields(InstallDriverFault(stand_in, CudaState::kOldDriver));
    const char* env = getenv(kDriverFaultEnvVar);
    out += Field("env", env != nullptr ? env : "");
    void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    out += Field("by_soname", h != nullptr ? "1" : "0");
    return out;
  });
  EXPECT_EQ(r.fields["class"], "ok") << r.raw;
  EXPECT_EQ(r.fields["env"], "old-driver");
  EXPECT_EQ(r.fields["by_soname"], "1");
}

// Once the driver has been used its fault is fixed: installing the same
// fault again is fine, a different one is refused.
TEST(InstallDriverFault, FaultIsFixedOnFirstUse) {
  std::string stand_in = StandIn();
  ChildResult r = RunInFork([&] {
    std::string out =
        Field("first", std::string(ErrorClassName(InstallDriverFault(stand_in, CudaState::kNoDevice).error_class())));
    out += Field("switch_before_use",
                 std::string(ErrorClassName(InstallDriverFault(stand_in, CudaState::kOldDriver).error_class())));
    void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    auto get_version = reinterpret_cast<CUresult (*)(int*)>(dlsym(h, "cuDriverGetVersion"));
    int version = -1;
    get_version(&version);
    out += Field("version", std::to_string(version));
    Status again = InstallDriverFault(stand_in, CudaState::kOldDriver);
    out += Field("same", std::string(ErrorClassName(again.error_class())));
    Status other = InstallDriverFault(stand_in, CudaState::kNoDevice);
    out += StatusFields(other);
    return out;
  });
  EXPECT_EQ(r.fields["first"], "ok") << r.raw;
  EXPECT_EQ(r.fields["switch_before_use"], "ok");
  EXPECT_EQ(r.fields["version"], "9000");
  EXPECT_EQ(r.fields["same"], "ok");
  EXPECT_EQ(r.fields["class"], "env-not-realized");
  EXPECT_THAT(r.fields["message"], HasSubstr("already in use"));
}

// The stand-in called directly, the way the CUDA runtime reaches it.
struct ProcAddressCase {
  const char* mode;
  int version;
  int init_result;
};

class StandInExports : public ::testing::TestWithParam<ProcAddressCase> {};

TEST_P(StandInExports, ResolvesEntryPointsThroughCuGetProcAddress) {
  const ProcAddressCase c = GetParam();
  std::string stand_in = StandIn();
  ChildResult r = RunInFork([&] {
    setenv(kDriverFaultEnvVar, c.mode, 1);
    void* h = dlopen(stand_in.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return Field("setup", dlerror());
    using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
    using GetProcV1 = CUresult (*)(const char*, void**, int, cuuint64_t);
    auto get_proc = reinterpret_cast<GetProc>(dlsym(h, "cuGetProcAddress_v2"));
    auto get_proc_v1 = reinterpret_cast<GetProcV1>(dlsym(h, "cuGetProcAddress"));
    std::string out = Field("has_v1", get_proc_v1 != nullptr ? "1" : "0");
    out += Field("has_v2", get_proc != nullptr ? "1" : "0");
    if (get_proc == nullptr || get_proc_v1 == nullptr) return out;

    void* fn = nullptr;
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    get_proc("cuDriverGetVersion", &fn, CUDA_VERSION, 0, &status);
    int version = -1;
    reinterpret_cast<CUresult (*)(int*)>(fn)(&version);
    out += Field("version", std::to_string(version));
    out += Field("status", std::to_string(status));

    get_proc_v1("cuInit", &fn, 11000, 0);
    out += Field("init", std::to_string(reinterpret_cast<CUresult (*)(unsigned)>(fn)(0)));
    // A name with no definition here gets the generic fault function.
    get_proc("cuCtxCreate", &fn, CUDA_VERSION, 0, &status);
    out += Field("other", std::to_string(reinterpret_cast<CUresult (*)(void*, unsigned, int)>(fn)(nullptr, 0, 0)));
    get_proc("cuGetProcAddress", &fn, CUDA_VERSION, 0, &status);
    out += Field("self_v2", fn == reinterpret_cast<void*>(get_proc) ? "1" : "0");
    get_proc("cuGetProcAddress", &fn, 11030, 0, &status);
    out += Field("self_v1", fn == reinterpret_cast<void*>(get_proc_v1) ? "1" : "0");

    const char* text = nullptr;
    auto error_string = reinterpret_cast<CUresult (*)(CUresult, const char**)>(dlsym(h, "cuGetErrorString"));
    error_string(static_cast<CUresult>(c.init_result), &text);
    out += Field("text", text != nullptr ? text : "");
    auto mode = reinterpret_cast<const char* (*)()>(dlsym(h, "harness_driver_fault_mode"));
    out += Field("mode", mode != nullptr && mode() != nullptr ? mode() : "");
    return out;
  });
  EXPECT_EQ(r.fields["has_v1"], "1") << r.raw;
  EXPECT_EQ(r.fields["has_v2"], "1");
  EXPECT_EQ(r.fields["version"], std::to_string(c.version));
  EXPECT_EQ(r.fields["status"], std::to_string(CU_GET_PROC_ADDRESS_SUCCESS));
  EXPECT_EQ(r.fields["init"], std::to_string(c.init_result));
  EXPECT_EQ(r.fields["other"], std::to_string(c.init_result));
  EXPECT_EQ(r.fields["self_v2"], "1");
  EXPECT_EQ(r.fields["self_v1"], "1");
  EXPECT_FALSE(r.fields["text"].empty());
  EXPECT_EQ(r.fields["mode"], c.mode);
}

INSTANTIATE_TEST_SUITE_P(Modes, StandInExports,
                         ::testing::Values(ProcAddressCase{"no-device", CUDA_VERSION, 100},
                                           ProcAddressCase{"old-driver", 9000, 35},
                                           ProcAddressCase{"no-driver", 0, 35}),
                         [](const ::testing::TestParamInfo<ProcAddressCase>& info) {
                           std::string name = info.param.mode;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace harness::env
