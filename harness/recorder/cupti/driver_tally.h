// What CUPTI saw at the driver level: memory copies by device pair, and
// device allocations (cudaMalloc / cudaFree level: the caching allocator's
// segments, not tensors). Plain data, filled from activity records and
// written to / read from the JSON the injection library leaves per process.
//
//   DriverTally t;
//   AddActivityRecord(*record, &t);   // for every record CUPTI hands back
//   t.copies[{kHost, 0}].bytes        // host-to-device bytes onto cuda:0
#ifndef HARNESS_RECORDER_CUPTI_DRIVER_TALLY_H_
#define HARNESS_RECORDER_CUPTI_DRIVER_TALLY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "cuda_toolkit/cuda_toolkit_info.h"
#include "harness/base/status.h"

#if HARNESS_CUDA_HAS_CUPTI
#include <cupti_activity.h>
#endif

namespace harness::recorder::cupti {

// The device index used for host memory in a copy's (src, dst) pair.
constexpr int kHost = -1;

struct CopyCount {
  int64_t bytes = 0;
  int64_t count = 0;
};

struct DeviceAllocations {
  int64_t allocated_bytes = 0;  // sum of allocations
  int64_t current_bytes = 0;    // allocations minus releases (may be < 0 when
                                // memory allocated before tracing is freed)
  int64_t peak_bytes = 0;       // highest current_bytes
};

struct DriverTally {
  std::map<std::pair<int, int>, CopyCount> copies;  // (src, dst) -> count
  std::map<int, DeviceAllocations> device_memory;   // device -> allocations
  int64_t dropped_records = 0;                      // CUPTI ran out of buffer: counts are low

  void AddCopy(int src, int dst, int64_t bytes);
  void AddAllocation(int device, int64_t bytes);
  void AddRelease(int device, int64_t bytes);
  // Adds `other`'s counts. Peaks add up: exact for one process, an upper
  // bound for several (they need not have peaked at the same moment).
  void Merge(const DriverTally& other);
  bool Empty() const { return copies.empty() && device_memory.empty(); }
};

#if HARNESS_CUDA_HAS_CUPTI
// Folds one activity record into `tally`: memcpy (host-to-device,
// device-to-host, device-to-device incl. arrays, host-to-host), peer-to-peer
// memcpy, and device memory allocation / release. Other kinds are ignored.
void AddActivityRecord(const CUpti_Activity& record, DriverTally* tally);
#endif

// One process's report from the injection library (see injection.cc).
struct ProcessReport {
  int64_t pid = 0;
  std::string program;       // /proc/self/exe of the process
  bool injected = false;     // the driver called InitializeInjection
  int cuda_check = -1;       // at its end: cuDeviceGetCount's result from
                             // the loaded driver; -1 none loaded, -2 it
                             // has no cuDeviceGetCount, -3 success with
                             // no device (see injection.cc)
  bool cuda_usable = false;  // whether that answer leaves room for GPU use
  std::string cupti = "ok";  // "ok" or why CUPTI could not trace
  DriverTally tally;

  std::string ToJson() const;
  static Result<ProcessReport> FromJson(const std::string& text);
};

}  // namespace harness::recorder::cupti

#endif  // HARNESS_RECORDER_CUPTI_DRIVER_TALLY_H_
