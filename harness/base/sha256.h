// SHA-256 of byte strings, for checkpoint manifests. No dependencies.
//
//   std::string hex = harness::Sha256Hex(bytes, size);  // 64 lowercase hex
#ifndef HARNESS_BASE_SHA256_H_
#define HARNESS_BASE_SHA256_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace harness {

// Incremental hasher: Update() any number of times, then HexDigest() once.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  // Lowercase hex of the digest. The hasher must not be updated afterwards.
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string Sha256Hex(const void* data, size_t size);
inline std::string Sha256Hex(std::string_view s) { return Sha256Hex(s.data(), s.size()); }

}  // namespace harness

#endif  // HARNESS_BASE_SHA256_H_
