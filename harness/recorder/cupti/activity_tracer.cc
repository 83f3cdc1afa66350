#include "harness/recorder/cupti/activity_tracer.h"

#include <cstdlib>
#include <vector>

#include "harness/recorder/cupti/cupti_library.h"

namespace harness::recorder::cupti {

#if HARNESS_CUDA_HAS_CUPTI
namespace {

constexpr size_t kBufferBytes = 1 << 20;  // CUPTI's samples use 1-8 MiB
constexpr size_t kBufferAlignment = 8;

void CUPTIAPI BufferRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kBufferAlignment, kBufferBytes));
  *size = *buffer != nullptr ? kBufferBytes : 0;
  *max_records = 0;  // as many as fit
}

void CUPTIAPI BufferCompleted(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid_size) {
  if (buffer == nullptr) return;
  ActivityTracer::Get().Fold(buffer, valid_size);
  std::free(buffer);
}

// The kinds `o` asks for.
std::vector<CUpti_ActivityKind> Kinds(const TraceOptions& o) {
  std::vector<CUpti_ActivityKind> kinds;
  if (o.copies) {
    kinds.push_back(CUPTI_ACTIVITY_KIND_MEMCPY);
    kinds.push_back(CUPTI_ACTIVITY_KIND_MEMCPY2);
  }
  if (o.device_memory) kinds.push_back(CUPTI_ACTIVITY_KIND_MEMORY2);
  return kinds;
}

}  // namespace
#endif  // HARNESS_CUDA_HAS_CUPTI

namespace {

thread_local int busy = 0;

// Marks this thread as inside the tracer for a scope.
struct Busy {
  Busy() { ++busy; }
  ~Busy() { --busy; }
};

}  // namespace

bool ActivityTracer::BusyOnThisThread() { return busy > 0; }

ActivityTracer& ActivityTracer::Get() {
  static ActivityTracer* tracer = new ActivityTracer();  // never destroyed: CUPTI
  return *tracer;                                        // may call back at exit
}

bool ActivityTracer::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

Status ActivityTracer::Start(const TraceOptions& options) {
  Busy in_tracer;
  Result<const CuptiLibrary*> loaded = LoadCupti();
  if (!loaded.ok()) return loaded.status();
#if HARNESS_CUDA_HAS_CUPTI
  const CuptiLibrary& cupti = **loaded;
  std::lock_guard<std::mutex> control(control_mu_);
  if (started()) return Status(ErrorClass::kInternal, "CUPTI tracer started twice");
  // Buffers of an earlier session, if any, go before the tally is reset, and
  // so does the count of records dropped before now: CUPTI resets the count
  // when it is read, so reading it here is what matters.
  cupti.activity_flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  size_t dropped_before_start = 0;
  cupti.activity_get_num_dropped_records(nullptr, 0, &dropped_before_start);
  if (!callbacks_registered_) {
    CUptiResult r = cupti.activity_register_callbacks(&BufferRequested, &BufferCompleted);
    if (r != CUPTI_SUCCESS) {
      return Status(ErrorClass::kEnvNotRealized,
                    "CUPTI activity callbacks: " + cupti.ResultName(r) + " (" + cupti.path + ")");
    }
    callbacks_registered_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    tally_ = DriverTally{};
    started_ = true;
  }
  std::vector<CUpti_ActivityKind> enabled;
  for (CUpti_ActivityKind kind : Kinds(options)) {
    CUptiResult r = cupti.activity_enable(kind);
    if (r != CUPTI_SUCCESS) {
      for (CUpti_ActivityKind k : enabled) cupti.activity_disable(k);
      std::lock_guard<std::mutex> lock(mu_);
      started_ = false;
      return Status(ErrorClass::kEnvNotRealized, "CUPTI activity kind " + std::to_string(static_cast<int>(kind)) +
                                                     ": " + cupti.ResultName(r) + " (" + cupti.path + ")");
    }
    enabled.push_back(kind);
  }
  options_ = options;
  return OkStatus();
#else
  (void)options;
  return Status(ErrorClass::kEnvNotRealized, "built without CUPTI headers");
#endif
}

Result<DriverTally> ActivityTracer::Stop() { return Flush(/*stop=*/true); }

Result<DriverTally> ActivityTracer::Snapshot() { return Flush(/*stop=*/false); }

Result<DriverTally> ActivityTracer::Flush(bool stop) {
  Busy in_tracer;
#if HARNESS_CUDA_HAS_CUPTI
  std::lock_guard<std::mutex> control(control_mu_);
  if (!started()) return Status(ErrorClass::kInternal, "CUPTI tracer stopped without a start");
  const CuptiLibrary& cupti = **LoadCupti();
  if (stop) {
    for (CUpti_ActivityKind kind : Kinds(options_)) cupti.activity_disable(kind);
  }
  CUptiResult flushed = cupti.activity_flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  size_t dropped = 0;
  CUptiResult counted = cupti.activity_get_num_dropped_records(nullptr, 0, &dropped);
  std::lock_guard<std::mutex> lock(mu_);
  if (stop) started_ = false;
  tally_.dropped_records += static_cast<int64_t>(dropped);
  if (flushed != CUPTI_SUCCESS) {
    return Status(ErrorClass::kInternal, "CUPTI flush: " + cupti.ResultName(flushed));
  }
  if (counted != CUPTI_SUCCESS) {
    return Status(ErrorClass::kInternal, "CUPTI dropped-record count: " + cupti.ResultName(counted));
  }
  return tally_;
#else
  (void)stop;
  return Status(ErrorClass::kEnvNotRealized, "built without CUPTI headers");
#endif
}

void ActivityTracer::Fold(uint8_t* buffer, size_t valid_size) {
  Busy in_tracer;
#if HARNESS_CUDA_HAS_CUPTI
  Result<const CuptiLibrary*> loaded = LoadCupti();
  if (!loaded.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  CUpti_Activity* record = nullptr;
  for (;;) {
    CUptiResult r = (*loaded)->activity_get_next_record(buffer, valid_size, &record);
    if (r == CUPTI_ERROR_MAX_LIMIT_REACHED) break;  // the end of the buffer
    if (r != CUPTI_SUCCESS) {
      // CUPTI_ERROR_INVALID_KIND: a record not complete when it was flushed.
      // What follows in this buffer is lost; say so.
      if (started_) tally_.dropped_records += 1;
      break;
    }
    if (started_) AddActivityRecord(*record, &tally_);
  }
#else
  (void)buffer;
  (void)valid_size;
#endif
}

}  // namespace harness::recorder::cupti
