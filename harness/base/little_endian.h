// Little-endian unsigned integers in file formats (zip headers, pickle
// arguments, the safetensors header length): the one reader.
//
//   LittleEndian(std::string_view("\x10\x00", 2))   // 16
#ifndef HARNESS_BASE_LITTLE_ENDIAN_H_
#define HARNESS_BASE_LITTLE_ENDIAN_H_

#include <cstdint>
#include <string_view>

namespace harness {

// `bytes` (at most 8 of them; the caller checks that they exist) as a
// little-endian unsigned integer.
inline uint64_t LittleEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  }
  return value;
}

}  // namespace harness

#endif  // HARNESS_BASE_LITTLE_ENDIAN_H_
