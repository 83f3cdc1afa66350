#include "harness/worker/worker.h"

#include <sys/resource.h>

#include <cstdint>
#include <cstring>

#include "harness/base/subprocess.h"

namespace harness::worker {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif
#else
constexpr bool kUnderAddressSanitizer = false;
#endif

void LimitData(int64_t bytes) {
  if (bytes <= 0 || kUnderAddressSanitizer) return;
  const rlimit limit = {static_cast<rlim_t>(bytes), static_cast<rlim_t>(bytes)};
  setrlimit(RLIMIT_DATA, &limit);
}

}  // namespace

WorkerResult RunInWorker(const std::function<std::string()>& body, double timeout_seconds,
                         int64_t memory_limit_bytes) {
  if (!(timeout_seconds > 0)) {
    WorkerResult invalid;
    invalid.status = Status(ErrorClass::kInvalidArgument,
                            "worker timeout must be positive, got " + std::to_string(timeout_seconds) + " s");
    return invalid;
  }
  ChildOptions options;
  // What the worker (and LibTorch in it) says goes to the result, not the
  // terminal; its own process group, so a timeout also ends what it started.
  options.capture = ChildOptions::Capture::kStdoutAndStderr;
  options.timeout_seconds = timeout_seconds;
  options.own_process_group = true;
  options.output_limit = 8192;
  const Child child = RunChild(
      [&](int result_fd) {
        LimitData(memory_limit_bytes);
        const std::string payload = body();
        const uint64_t size = payload.size();
        const bool sent = WriteAll(result_fd, std::string_view(reinterpret_cast<const char*>(&size), sizeof(size))) &&
                          WriteAll(result_fd, payload);
        return sent ? 0 : 3;
      },
      options);
  WorkerResult result;
  result.output = child.output;
  result.wall_seconds = child.wall_seconds;
  if (child.cancelled) {
    result.status = Status(ErrorClass::kLost, "cancelled: the run was told to stop");
  } else if (!child.started) {
    result.status = Status(ErrorClass::kInternal, child.start_error);
  } else if (child.timed_out) {
    result.status = Status(ErrorClass::kTimeout, "worker exceeded " + std::to_string(timeout_seconds) + " s");
  } else if (!child.exited) {
    result.status = Status(ErrorClass::kCrashed, "crashed(" + DescribeSignalDeath(child.signal) + ")");
  } else if (child.result.size() < sizeof(uint64_t)) {
    result.status =
        Status(ErrorClass::kLost, "worker exited with status " + std::to_string(child.exit_code) + " without a result");
  } else {
    uint64_t size = 0;
    std::memcpy(&size, child.result.data(), sizeof(size));
    if (child.result.size() != sizeof(size) + size) {
      result.status = Status(ErrorClass::kLost, "worker result truncated");
    } else {
      result.payload = child.result.substr(sizeof(size));
    }
  }
  return result;
}

}  // namespace harness::worker
