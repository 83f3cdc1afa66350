// CUPTI, loaded at run time. Nothing in the harness links libcupti: a binary
// must start on hosts without the CUDA Toolkit, and a process that already
// has a CUPTI (LibTorch 2.x's libtorch_cpu needs libcupti.so.N for its
// profiler) must use that same instance, since CUPTI keeps one set of
// activity buffers per process.
//
//   Result<const CuptiLibrary*> cupti = LoadCupti();
//   if (!cupti.ok()) return cupti.status();   // kEnvNotRealized, says why
//   (*cupti)->activity_enable(CUPTI_ACTIVITY_KIND_MEMCPY);
//
// Where it looks, first hit wins:
//   1. a libcupti already loaded in this process (then nothing else);
//   2. $HARNESS_CUPTI_LIBRARY, a path (then nothing else);
//   3. libcupti.so.<major of the build's toolkit>, then libcupti.so, through
//      the dynamic loader's search (LD_LIBRARY_PATH, ...);
//   4. the CUPTI that tools/bazel/cuda_configure.bzl found at build time.
#ifndef HARNESS_RECORDER_CUPTI_CUPTI_LIBRARY_H_
#define HARNESS_RECORDER_CUPTI_CUPTI_LIBRARY_H_

#include <string>

#include "cuda_toolkit/cuda_toolkit_info.h"
#include "harness/base/status.h"

#if HARNESS_CUDA_HAS_CUPTI
#include <cupti_activity.h>
#include <cupti_result.h>
#endif

namespace harness::recorder::cupti {

// True when this build has CUPTI's headers, i.e. can trace at all.
constexpr bool kBuiltWithCupti = HARNESS_CUDA_HAS_CUPTI != 0;

#if HARNESS_CUDA_HAS_CUPTI
// The entry points the tracer uses; each one non-null once loaded.
struct CuptiLibrary {
  std::string path;  // the file it came from
  void* handle;      // dlopen's
  CUptiResult (*activity_enable)(CUpti_ActivityKind);
  CUptiResult (*activity_disable)(CUpti_ActivityKind);
  CUptiResult (*activity_register_callbacks)(CUpti_BuffersCallbackRequestFunc, CUpti_BuffersCallbackCompleteFunc);
  CUptiResult (*activity_flush_all)(uint32_t);
  CUptiResult (*activity_get_next_record)(uint8_t*, size_t, CUpti_Activity**);
  CUptiResult (*activity_get_num_dropped_records)(CUcontext, uint32_t, size_t*);
  CUptiResult (*get_result_string)(CUptiResult, const char**);

  // "CUPTI_ERROR_UNKNOWN (999)".
  std::string ResultName(CUptiResult r) const;
};
#else
struct CuptiLibrary {
  std::string path;
};
#endif

// Loads CUPTI once per process (later calls return the first answer).
// kEnvNotRealized when no CUPTI is found or a symbol is missing, or when this
// build had no CUPTI headers.
Result<const CuptiLibrary*> LoadCupti();

}  // namespace harness::recorder::cupti

#endif  // HARNESS_RECORDER_CUPTI_CUPTI_LIBRARY_H_
