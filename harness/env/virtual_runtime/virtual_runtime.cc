#include "harness/env/virtual_runtime/virtual_runtime.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>

#include "harness/base/data_file.h"

namespace harness::env {
namespace {

// A whole decimal number >= 0, or nothing.
bool ParseCount(const std::string& field, int64_t* out) {
  if (field.empty() || field.find_first_not_of("0123456789") != std::string::npos || field.size() > 18) return false;
  *out = std::strtoll(field.c_str(), nullptr, 10);
  return true;
}

Status Invalid(const std::string& text, const std::string& why) {
  return Status(ErrorClass::kInvalidArgument,
                std::string(kVirtualCudaEnvVar) + "='" + text + "': " + why +
                    " (expected <count> or <count>;<bytes>,<bytes>,...)");
}

using ReconfigureFn = const char* (*)();

ReconfigureFn LoadedReconfigure() {
  return reinterpret_cast<ReconfigureFn>(dlsym(RTLD_DEFAULT, "harness_virtual_cuda_reconfigure"));
}

}  // namespace

std::string FormatVirtualRuntimeSpec(const VirtualRuntimeSpec& spec) {
  std::string text = std::to_string(spec.device_count);
  for (size_t i = 0; i < spec.capacity_bytes.size(); ++i) {
    text += (i == 0 ? ";" : ",") + std::to_string(spec.capacity_bytes[i]);
  }
  return text;
}

Result<VirtualRuntimeSpec> ParseVirtualRuntimeSpec(const std::string& text) {
  VirtualRuntimeSpec spec;
  const size_t semicolon = text.find(';');
  int64_t count = 0;
  if (!ParseCount(text.substr(0, semicolon), &count)) return Invalid(text, "the device count is no number");
  if (count > kMaxVirtualRuntimeDevices) {
    return Invalid(text, "at most " + std::to_string(kMaxVirtualRuntimeDevices) + " devices");
  }
  spec.device_count = static_cast<int>(count);
  if (semicolon == std::string::npos) return spec;
  const std::string capacities = text.substr(semicolon + 1);
  size_t start = 0;
  while (true) {
    const size_t comma = capacities.find(',', start);
    int64_t bytes = 0;
    if (!ParseCount(capacities.substr(start, comma - start), &bytes)) {
      return Invalid(text, "capacity " + std::to_string(spec.capacity_bytes.size()) + " is no byte count");
    }
    spec.capacity_bytes.push_back(bytes);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(spec.capacity_bytes.size()) > spec.device_count) {
    return Invalid(text, "more capacities than devices");
  }
  return spec;
}

Result<std::string> FindVirtualCudaRuntime(const std::string& argv0) {
  return FindDataFile({.what = "virtual CUDA runtime",
                       .env_var = kVirtualCudaLibEnvVar,
                       .runfiles_path = "ckpt_harness/harness/env/virtual_runtime/libharness_virtual_cuda.so",
                       .beside_binary = "libharness_virtual_cuda.so"},
                      argv0);
}

namespace {
// Set for the program run again: LD_PRELOAD as it was before.
constexpr char kPreloadBeforeEnvVar[] = "HARNESS_VIRTUAL_CUDA_PRELOAD_BEFORE";
}  // namespace

Status ReexecWithVirtualCudaRuntime(const std::string& library, char** argv) {
  if (std::getenv(kPreloadBeforeEnvVar) != nullptr) {
    return Status(ErrorClass::kEnvNotRealized,
                  "run again with " + library + " preloaded, but it is not loaded (LD_PRELOAD ignored?)");
  }
  const char* preload = std::getenv("LD_PRELOAD");
  const std::string before = preload != nullptr ? preload : "";
  setenv(kPreloadBeforeEnvVar, before.c_str(), 1);
  setenv("LD_PRELOAD", (library + (before.empty() ? "" : " " + before)).c_str(), 1);
  execv("/proc/self/exe", argv);
  const std::string failed = std::string("cannot run again with the virtual CUDA runtime: ") + strerror(errno);
  setenv("LD_PRELOAD", before.c_str(), 1);
  unsetenv(kPreloadBeforeEnvVar);
  return Status(ErrorClass::kEnvNotRealized, failed);
}

void RestorePreloadAfterReexec() {
  const char* before = std::getenv(kPreloadBeforeEnvVar);
  if (before == nullptr) return;
  if (*before == '\0') {
    unsetenv("LD_PRELOAD");
  } else {
    setenv("LD_PRELOAD", before, 1);
  }
  unsetenv(kPreloadBeforeEnvVar);
}

bool VirtualCudaRuntimeLoaded() { return LoadedReconfigure() != nullptr; }

Status ReconfigureVirtualCudaRuntime(const VirtualRuntimeSpec& spec) {
  ReconfigureFn reconfigure = LoadedReconfigure();
  if (reconfigure == nullptr) {
    return Status(ErrorClass::kEnvNotRealized, "the virtual CUDA runtime is not loaded into this process");
  }
  setenv(kVirtualCudaEnvVar, FormatVirtualRuntimeSpec(spec).c_str(), 1);
  if (const char* refused = reconfigure()) return Status(ErrorClass::kEnvNotRealized, refused);
  return OkStatus();
}

}  // namespace harness::env
