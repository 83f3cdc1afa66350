// CUPTI's activity API, driven for one process: memcpy (including
// peer-to-peer) and, on request, device memory allocation records, folded
// into a DriverTally as CUPTI hands back its buffers.
//
//   ActivityTracer& tracer = ActivityTracer::Get();
//   Status s = tracer.Start({.device_memory = false});
//   if (!s.ok()) ...                  // no CUPTI, no driver: s says why
//   ... copies ...
//   // synchronise the devices first: CUPTI writes a record when the copy
//   // has completed
//   Result<DriverTally> t = tracer.Stop();
//
// One tracer per process (CUPTI keeps one set of activity buffers per
// process); Start while started is kInternal. Thread-safe otherwise.
#ifndef HARNESS_RECORDER_CUPTI_ACTIVITY_TRACER_H_
#define HARNESS_RECORDER_CUPTI_ACTIVITY_TRACER_H_

#include <mutex>

#include "harness/base/status.h"
#include "harness/recorder/cupti/driver_tally.h"

namespace harness::recorder::cupti {

struct TraceOptions {
  bool copies = true;          // MEMCPY and MEMCPY2 (peer-to-peer)
  bool device_memory = false;  // MEMORY2: cudaMalloc / cudaFree level
};

class ActivityTracer {
 public:
  static ActivityTracer& Get();

  // Loads CUPTI, registers the buffer callbacks (once) and enables the kinds.
  // kEnvNotRealized with CUPTI's own result name when tracing cannot start:
  // no CUPTI library, or CUPTI_ERROR_UNKNOWN where no driver exists.
  Status Start(const TraceOptions& options);
  // Disables the kinds, flushes every buffer (forced) and returns what was
  // recorded since Start.
  Result<DriverTally> Stop();
  // Flushes every buffer and returns what was recorded since Start, tracing
  // on.
  Result<DriverTally> Snapshot();
  bool started() const;
  // True while this thread is inside Start, Stop, Snapshot or Fold: a signal
  // handler that ends the process then must not call them again (it would
  // wait on a lock its own thread holds).
  static bool BusyOnThisThread();

  // For CUPTI's callbacks only. A record CUPTI cannot hand back (incomplete
  // at a forced flush) counts as dropped.
  void Fold(uint8_t* buffer, size_t valid_size);

 private:
  ActivityTracer() = default;
  Result<DriverTally> Flush(bool stop);

  // Start, Stop and Snapshot one at a time; mu_ guards the tally, which
  // CUPTI's thread fills.
  std::mutex control_mu_;
  mutable std::mutex mu_;
  bool started_ = false;               // guarded by mu_
  bool callbacks_registered_ = false;  // guarded by control_mu_
  TraceOptions options_;               // guarded by control_mu_
  DriverTally tally_;                  // guarded by mu_
};

}  // namespace harness::recorder::cupti

#endif  // HARNESS_RECORDER_CUPTI_ACTIVITY_TRACER_H_
