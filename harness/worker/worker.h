// Runs a function in a forked child and brings its result back over a pipe.
//
//   WorkerResult r = RunInWorker([] { return std::string("{\"ok\":1}"); }, 30.0);
//   if (!r.status.ok()) ...   // kTimeout, kCrashed ("crashed(SIGSEGV)"), kLost
//
// The calling process is the fork server: it has loaded LibTorch but must not
// have touched CUDA, so every child starts with CUDA uninitialised.
#ifndef HARNESS_WORKER_WORKER_H_
#define HARNESS_WORKER_WORKER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "harness/base/status.h"

namespace harness::worker {

struct WorkerResult {
  Status status;        // ok, or kTimeout / kCrashed / kLost
  std::string payload;  // what the child returned (when ok)
  std::string output;   // last 8 KiB the child printed (stdout and stderr)
  double wall_seconds = 0;
};

// `body` runs in the child; its return value is the payload. The child exits
// with _exit() right after, running no destructors of the parent's state.
// `timeout_seconds` must be positive (kInvalidArgument otherwise).
// `memory_limit_bytes` > 0 caps the child's data (RLIMIT_DATA: heap and
// private writable mappings, what a loader allocates), so a loader that
// allocates without bound fails its allocation (an out-of-memory error)
// instead of driving the host into the kernel's OOM killer. Processes the
// child starts inherit the cap. Not applied under AddressSanitizer, whose
// shadow memory alone exceeds any cap.
WorkerResult RunInWorker(const std::function<std::string()>& body, double timeout_seconds,
                         int64_t memory_limit_bytes = 0);

}  // namespace harness::worker

#endif  // HARNESS_WORKER_WORKER_H_
