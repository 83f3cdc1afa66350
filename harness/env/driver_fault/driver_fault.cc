#include "harness/env/driver_fault/driver_fault.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "harness/base/data_file.h"

namespace harness::env {
namespace {

constexpr char kDriverSoname[] = "libcuda.so.1";
// Exported by the stand-in only; see libcuda_stand_in.cc.
constexpr char kStandInMarker[] = "harness_driver_fault_mode";
using ModeFn = const char* (*)();

bool IsFile(const std::string& path) { return !path.empty() && access(path.c_str(), R_OK) == 0; }

std::string Absolute(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
}

std::string DlError() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown dlopen error";
}

// The stand-in's entry point behind `handle`, or nullptr for any other
// library.
ModeFn StandInModeFn(void* handle) { return reinterpret_cast<ModeFn>(dlsym(handle, kStandInMarker)); }

}  // namespace

Result<std::string> FindDriverFaultStandIn(const std::string& argv0, const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (IsFile(explicit_path)) return Absolute(explicit_path);
    return Status(ErrorClass::kEnvNotRealized, "driver stand-in not found at " + explicit_path);
  }
  // Keeps the runfiles symlink's name: the loader needs no more, and the
  // directory stays one that holds a file named libcuda.so.1.
  return FindDataFile(
      {.what = "driver stand-in", .env_var = kDriverFaultLibEnvVar, .runfiles_path = kDriverFaultRunfilesPath}, argv0);
}

Status InstallDriverFault(const std::string& stand_in_path, CudaState fault) {
  const std::string_view mode = CudaStateName(fault);
  if (InfoOf(fault).real != RealMechanism::kDriverStandIn) {
    return Status(ErrorClass::kInvalidArgument, "'" + std::string(mode) + "' is no driver fault (" +
                                                    CudaStateList(/*driver_faults_only=*/true) + ")");
  }
  if (stand_in_path.empty() || stand_in_path[0] != '/') {
    return Status(ErrorClass::kInvalidArgument, "driver stand-in path must be absolute: '" + stand_in_path + "'");
  }
  // Whatever answers to libcuda.so.1 now is what the runtime will get.
  if (void* loaded = dlopen(kDriverSoname, RTLD_NOW | RTLD_NOLOAD)) {
    ModeFn mode_fn = StandInModeFn(loaded);
    dlclose(loaded);
    if (mode_fn == nullptr) {
      return Status(ErrorClass::kEnvNotRealized,
                    "a real libcuda.so.1 is already loaded in this process; "
                    "the driver fault '" +
                        std::string(mode) + "' cannot replace it");
    }
    const char* fixed = mode_fn();
    if (fixed != nullptr && mode != fixed) {
      return Status(ErrorClass::kEnvNotRealized, "the driver stand-in is already in use with fault '" +
                                                     std::string(fixed) + "'; cannot switch to '" + std::string(mode) +
                                                     "'");
    }
    // A stand-in is in place already (an earlier call, or LD_LIBRARY_PATH);
    // it reads the fault on first use.
    setenv(kDriverFaultEnvVar, std::string(mode).c_str(), 1);
    return OkStatus();
  }
  void* handle = dlopen(stand_in_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    return Status(ErrorClass::kEnvNotRealized, "cannot load driver stand-in: " + DlError());
  }
  bool is_stand_in = StandInModeFn(handle) != nullptr;
  void* by_soname = dlopen(kDriverSoname, RTLD_NOW | RTLD_NOLOAD);
  bool answers_soname = by_soname == handle;
  if (by_soname != nullptr) dlclose(by_soname);
  dlclose(handle);  // RTLD_NODELETE keeps the stand-in loaded.
  if (!is_stand_in) {
    return Status(ErrorClass::kEnvNotRealized, stand_in_path + " is not the harness driver stand-in");
  }
  if (!answers_soname) {
    return Status(ErrorClass::kEnvNotRealized, stand_in_path + " does not answer to the soname " + kDriverSoname);
  }
  setenv(kDriverFaultEnvVar, std::string(mode).c_str(), 1);
  return OkStatus();
}

}  // namespace harness::env
