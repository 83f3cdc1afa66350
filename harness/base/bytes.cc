#include "harness/base/bytes.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace harness {

std::string HumanBytes(int64_t bytes) {
  char buf[64];
  if (bytes < (1 << 10)) {
    std::snprintf(buf, sizeof(buf), "%lld bytes", static_cast<long long>(bytes));
  } else if (bytes < (1 << 20)) {
    std::snprintf(buf, sizeof(buf), "%.2f KiB", bytes / 1024.0);
  } else if (bytes < (int64_t(1) << 30)) {
    std::snprintf(buf, sizeof(buf), "%.2f MiB", bytes / 1048576.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", bytes / 1073741824.0);
  }
  return buf;
}

std::optional<int64_t> ParseByteSize(std::string_view text) {
  constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"GiB", int64_t(1) << 30}, {"MiB", int64_t(1) << 20}, {"KiB", int64_t(1) << 10}, {"B", 1}};
  int64_t unit = 1;
  for (const auto& [suffix, multiplier] : kUnits) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      unit = multiplier;
      text.remove_suffix(suffix.size());
      break;
    }
  }
  const std::string number(text);
  if (number.empty() || !(std::isdigit(static_cast<unsigned char>(number[0])))) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !(value >= 0)) return std::nullopt;
  const double bytes = value * double(unit);
  if (bytes >= 9.2e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace harness
