// Byte counts for people, and back: one way of writing sizes everywhere.
//
//   HumanBytes(1536)          // "1.50 KiB", the way a CUDA build of LibTorch
//                             // writes sizes in its out-of-memory message
//   ParseByteSize("64KiB")    // 65536, as scenario files write sizes
#ifndef HARNESS_BASE_BYTES_H_
#define HARNESS_BASE_BYTES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness {

// "800 bytes", "1.50 KiB", "2.00 MiB", "3.00 GiB".
std::string HumanBytes(int64_t bytes);

// "4096", "100B", "64KiB", "1.5MiB", "2GiB"; nullopt for anything else,
// negative values, and sizes that do not fit in int64_t.
std::optional<int64_t> ParseByteSize(std::string_view text);

}  // namespace harness

#endif  // HARNESS_BASE_BYTES_H_
