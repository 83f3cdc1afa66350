// Byte counts for people: "800 bytes", "1.50 KiB", "2.00 GiB", the way a
// CUDA build of LibTorch writes sizes in its out-of-memory message.
#ifndef HARNESS_BASE_BYTES_H_
#define HARNESS_BASE_BYTES_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace harness {

inline std::string HumanBytes(int64_t bytes) {
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

}  // namespace harness

#endif  // HARNESS_BASE_BYTES_H_
