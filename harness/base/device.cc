#include "harness/base/device.h"

namespace harness {

std::string Device::ToString() const {
  if (is_cpu()) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

std::string LandingDevice(std::string_view device) {
  const Result<Device> parsed = ParseDevice(device);
  if (parsed.ok() && parsed->is_cuda() && parsed->index < 0) return "cuda:0";
  return std::string(device);
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

namespace {

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

}  // namespace

Result<std::map<std::string, std::string>> ParseDeviceMap(std::string_view text) {
  const auto invalid = [text](const std::string& why) {
    return Status(ErrorClass::kInvalidArgument, "device map '" + std::string(text) + "': " + why);
  };
  if (Trim(text).empty()) return invalid("empty; expected OLD=NEW[,OLD=NEW...], e.g. cpu=cuda:1");
  std::map<std::string, std::string> map;
  size_t start = 0;
  for (int entry_number = 1;; ++entry_number) {
    const size_t comma = text.find(',', start);
    const std::string_view entry =
        Trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    const std::string where = "entry " + std::to_string(entry_number);
    if (entry.empty()) return invalid(where + " is empty");
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return invalid(where + " '" + std::string(entry) + "' has no '='; expected OLD=NEW");
    }
    if (entry.find('=', equals + 1) != std::string_view::npos) {
      return invalid(where + " '" + std::string(entry) + "' has more than one '='");
    }
    const std::string from(Trim(entry.substr(0, equals)));
    const std::string to(Trim(entry.substr(equals + 1)));
    for (const std::string* device : {&from, &to}) {
      Status status = ParseDevice(*device).status();
      if (!status.ok()) return invalid(where + ": " + status.message());
    }
    if (!map.emplace(from, to).second) return invalid("'" + from + "' is mapped twice");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return map;
}

}  // namespace harness
