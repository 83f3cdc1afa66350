#include "harness/base/device.h"

namespace harness {

std::string Device::ToString() const {
  if (is_cpu()) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

std::string DeviceNameOf(int cuda_index) {
  return Device{cuda_index < 0 ? Device::Type::kCpu : Device::Type::kCuda, cuda_index}.ToString();
}

Result<Device> ParseDevice(std::string_view text) {
  const auto invalid = [text](const std::string& why) {
    return Status(ErrorClass::kInvalidArgument, "invalid device '" + std::string(text) + "': " + why);
  };
  constexpr const char* kExpected = "expected cpu, cuda or cuda:K";
  if (text == "cpu") return Device{Device::Type::kCpu, -1};
  if (text == "cuda") return Device{Device::Type::kCuda, -1};
  if (text.empty()) return invalid(std::string("empty; ") + kExpected);
  const size_t colon = text.find(':');
  const std::string type(text.substr(0, colon));
  if (type == "cpu") return invalid("cpu takes no device index");
  if (type != "cuda") return invalid("unsupported device type '" + type + "'; " + kExpected);
  const std::string index(text.substr(colon + 1));
  if (index.empty()) return invalid("missing device index after ':'");
  for (char c : index) {
    if (c < '0' || c > '9') {
      return invalid("device index '" + index + "' is not a non-negative decimal integer");
    }
  }
  if (index.size() > 1 && index[0] == '0') {
    return invalid("device index '" + index + "' has a leading zero");
  }
  if (index.size() > 4 || std::stoi(index) > Device::kMaxIndex) {
    return invalid("device index " + index + " is out of range [0, " + std::to_string(Device::kMaxIndex + 1) + ")");
  }
  return Device{Device::Type::kCuda, std::stoi(index)};
}

}  // namespace harness
