// Device strings, device maps and byte sizes (what users type): any bytes
// parse or give an error; what parses prints back as itself.
#include <string>

#include "harness/base/bytes.h"
#include "harness/base/device.h"
#include "tools/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  harness::Result<harness::Device> device = harness::ParseDevice(text);
  if (device.ok() && device->ToString() != text) __builtin_trap();  // the one spelling round-trips
  (void)harness::ParseDeviceMap(text);
  (void)harness::ParseByteSize(text);
  return 0;
}
