// Device strings as scenario files, manifests, device maps and LibTorch write
// them: "cpu", "cuda" (the current CUDA device) and "cuda:K". The one parser
// of device strings in the harness; it needs no LibTorch.
//
//   Result<Device> d = ParseDevice("cuda:1");   // d->is_cuda(), d->index == 1
//   ParseDevice("cuda:x").status()
//   // kInvalidArgument: "invalid device 'cuda:x': device index 'x' is not a
//   //                    non-negative decimal integer"
#ifndef HARNESS_BASE_DEVICE_H_
#define HARNESS_BASE_DEVICE_H_

#include <map>
#include <string>
#include <string_view>

#include "harness/base/status.h"

namespace harness {

struct Device {
  enum class Type { kCpu, kCuda };
  // Highest index accepted, above any machine's device count.
  static constexpr int kMaxIndex = 1023;

  Type type = Type::kCpu;
  int index = -1;  // -1: "cpu", or "cuda" without an index

  bool is_cpu() const { return type == Type::kCpu; }
  bool is_cuda() const { return type == Type::kCuda; }
  // "cpu", "cuda" or "cuda:K": what ParseDevice reads back.
  std::string ToString() const;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
};

// kInvalidArgument naming the string and what is wrong with it: an empty
// string, another device type, "cpu:0", a missing, non-decimal, zero-padded
// or out-of-range index.
Result<Device> ParseDevice(std::string_view text);

// A device map "cpu=cuda:1, cuda:0=cuda:1" (Python's dict map_location,
// written as text): old location -> new. Whitespace around names is
// ignored; every name must pass ParseDevice. kInvalidArgument for empty text
// or entries, an entry without exactly one '=', or an old location given
// twice.
Result<std::map<std::string, std::string>> ParseDeviceMap(std::string_view text);

// Where a tensor sent to `device` lands: "cuda" is the current CUDA device,
// which the harness never changes, so it is "cuda:0" (the first device of
// the realized CUDA_VISIBLE_DEVICES); every other device is itself, and text
// that is no device is returned as it is. What placements are checked
// against.
std::string LandingDevice(std::string_view device);

// "cpu" for a negative index, else "cuda:K": the ledger's device names.
std::string DeviceNameOf(int cuda_index);

}  // namespace harness

#endif  // HARNESS_BASE_DEVICE_H_
