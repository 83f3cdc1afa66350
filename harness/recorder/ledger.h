// The transfer and memory ledger of one load: plain data, filled by the
// recorder (recorder.h) in the loading process, or from CUPTI's injected
// reports (cupti/injected.h) for a loader that runs in its own processes.
// Its JSON field names are stable and documented in docs/ledger.md.
#ifndef HARNESS_RECORDER_LEDGER_H_
#define HARNESS_RECORDER_LEDGER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/recorder/cupti/driver_tally.h"

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

// Copies between devices as one source saw them (device index -1 = host),
// before they become a ledger's directions and pairs.
struct CopyTally {
  Transfer h2d, d2h, d2d, h2h;
  std::map<std::string, Transfer> pairs;  // "cpu->cuda:0", "cuda:1->cuda:0"
  void Add(int src, int dst, int64_t bytes, int64_t copies = 1);
  static CopyTally FromDriver(const cupti::DriverTally& driver);
};

// "cpu" for -1, else "cuda:N".
std::string DeviceName(int index);

struct Ledger {
  Transfer host_to_device;
  Transfer device_to_host;
  Transfer device_to_device;
  Transfer host_to_host;
  std::map<std::string, Transfer> device_pairs;  // "cuda:1->cuda:0"
  std::map<std::string, Transfer> by_op;         // "aten::to", ...
  std::map<std::string, DeviceMemory> memory;    // "cuda:0" -> ...
  std::vector<std::string> sources;              // "dispatcher", "virtual", ...
  std::vector<std::string> disagreements;
  // What this ledger's sources could not see, e.g. "memory.cpu" or "by_op"
  // for a loader traced through CUPTI injection. A bound on an unmeasured
  // field is reported as not measured, never judged against 0.
  std::vector<std::string> unmeasured;
  std::map<std::string, std::string> notes;      // per source: caveats, or
                                                 // why it did not run
  double wall_seconds = 0;
  int64_t checkpoint_bytes = 0;

  // Sets the four directions and the pairs from `t`.
  void SetCopies(const CopyTally& t);
  std::string ToJson() const;   // field names documented in docs/ledger.md
};

// The ledger of a loader traced in its own processes by CUPTI injection:
// copies and device memory (cudaMalloc level) from `tally`; host memory and
// ops unmeasured.
Ledger LedgerFromInjectedTally(const cupti::DriverTally& tally, const std::string& note);

}  // namespace harness::recorder

#endif  // HARNESS_RECORDER_LEDGER_H_
