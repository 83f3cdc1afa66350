// The transfer and memory ledger of one load.
//
//   harness::recorder::Ledger ledger;
//   harness::Status s = harness::recorder::RunRecorded([&] { strategy.Load(req); }, &ledger);
//   ledger.transfer(Direction::kHostToDevice).bytes ...   // nlohmann::json(ledger) for reports
//
// Sources (each a class in recorder.cc, started before the load and
// finished after it):
//   dispatcher  a global at::RecordFunction callback on aten::copy_ (the leaf
//               of to -> _to_copy -> copy_), any LibTorch; each copy counted
//               once, attributed to the outermost op that caused it.
//   virtual     the virtual backend's copy kernel and allocator (CPU leg):
//               exact bytes per copy and per device.
//   cuda-copy-kernel, cuda-caching-allocator, cpu-allocator: see
//               docs/ledger.md.
//   cupti       CUDA builds on a GPU: CUPTI's memcpy activity records
//               (cupti/activity_tracer.h), the driver's own count.
// Where two measure copies, they must agree; a disagreement is written into
// the ledger (`disagreements`), never hidden. A source that could not run
// says why under `notes`.
#ifndef HARNESS_RECORDER_RECORDER_H_
#define HARNESS_RECORDER_RECORDER_H_

#include <functional>

#include "harness/base/status.h"
#include "harness/recorder/ledger.h"

namespace harness::recorder {

// Runs `body` under the exception boundary (harness/base/exception_boundary.h,
// as a loader's code) and records into `ledger`.
// Not reentrant.
Status RunRecorded(const std::function<void()>& body, Ledger* ledger);

}  // namespace harness::recorder

#endif  // HARNESS_RECORDER_RECORDER_H_
