#include "harness/env/virtual_runtime/virtual_runtime.h"

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

}  // namespace harness::env
