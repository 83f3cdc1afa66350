// Test support: real copies through the CUDA driver API (libcuda.so.1 only,
// no runtime), for tests that check what CUPTI records on a GPU host.
#ifndef HARNESS_RECORDER_CUPTI_TEST_SUPPORT_H_
#define HARNESS_RECORDER_CUPTI_TEST_SUPPORT_H_

#include <cstdint>
#include <string>

namespace harness::recorder::cupti::testing {

// Copies `bytes` host-to-device and back on device 0 (cuMemcpyHtoD,
// cuMemcpyDtoH), synchronously. Returns "" or what failed.
std::string CopyThroughDriver(int64_t bytes);

}  // namespace harness::recorder::cupti::testing

#endif  // HARNESS_RECORDER_CUPTI_TEST_SUPPORT_H_
