// The transfer and memory ledger of one load, and the exception boundary.
//
//   harness::recorder::Ledger ledger;
//   harness::Status s = harness::recorder::RunRecorded([&] { strategy.Load(req); }, &ledger);
//   ledger.host_to_device.bytes ...   // ledger.ToJson() for reports
//
// Sources:
//   dispatcher  a global at::RecordFunction callback on aten::copy_ (the leaf
//               of to -> _to_copy -> copy_), any LibTorch; each copy counted
//               once, attributed to the outermost op that caused it.
//   virtual     the virtual backend's copy kernel and allocator (CPU leg):
//               exact bytes per copy and per device.
// Where both measure copies, they must agree; a disagreement is written into
// the ledger (`disagreements`), never hidden.
#ifndef HARNESS_RECORDER_RECORDER_H_
#define HARNESS_RECORDER_RECORDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/base/status.h"

namespace harness::recorder {

struct Transfer {
  int64_t bytes = 0;
  int64_t count = 0;
  void Add(int64_t b) { bytes += b; count += 1; }
};

struct DeviceMemory {
  int64_t allocated_bytes = 0;  // allocated during the load
  int64_t peak_bytes = 0;       // peak above the level at the start
  int64_t held_bytes = 0;       // still held at the end (above the start)
};

struct Ledger {
  Transfer host_to_device;
  Transfer device_to_host;
  Transfer device_to_device;
  Transfer host_to_host;
  std::map<std::string, Transfer> device_pairs;  // "cuda:1->cuda:0"
  std::map<std::string, Transfer> by_op;         // "aten::to", ...
  std::map<std::string, DeviceMemory> memory;    // "cuda:0" -> ...
  std::vector<std::string> sources;              // "dispatcher", "virtual"
  std::vector<std::string> disagreements;
  double wall_seconds = 0;
  int64_t checkpoint_bytes = 0;

  std::string ToJson() const;   // field names documented in docs/ledger.md
};

// Runs `body`, records into `ledger`, and converts any exception to a Status
// classified by harness/env/classify.h (raw message kept). Not reentrant.
Status RunRecorded(const std::function<void()>& body, Ledger* ledger);

// The one boundary for exceptions without recording.
Status RunGuarded(const std::function<void()>& body);

}  // namespace harness::recorder

#endif  // HARNESS_RECORDER_RECORDER_H_
