// The transfer and memory ledger of one load: plain data, filled by the
// recorder (recorder.h) in the loading process, or from CUPTI's injected
// reports (cupti/injected.h) for a loader that runs in its own processes.
// No LibTorch. Its JSON (to_json/from_json below) has stable field names,
// documented in docs/ledger.md.
#ifndef HARNESS_RECORDER_LEDGER_H_
#define HARNESS_RECORDER_LEDGER_H_

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/recorder/cupti/driver_tally.h"

namespace harness::recorder {

// Which way a copy went. The one spelling of directions: ledgers, scenario
// bounds, reports.
enum class Direction { kHostToDevice, kDeviceToHost, kDeviceToDevice, kHostToHost };
inline constexpr Direction kDirections[] = {Direction::kHostToDevice, Direction::kDeviceToHost,
                                            Direction::kDeviceToDevice, Direction::kHostToHost};
// "host_to_device" etc.: JSON fields and scenario keys.
std::string_view DirectionName(Direction d);
// "h2d" etc.: terminal and report cells.
std::string_view DirectionAbbreviation(Direction d);
std::optional<Direction> DirectionFromName(std::string_view name);
// The direction of a copy between device indices (-1 = host).
Direction DirectionOf(int src, int dst);

struct Transfer {
  int64_t bytes = 0;
  int64_t count = 0;
  void Add(int64_t b, int64_t copies = 1) {
    bytes += b;
    count += copies;
  }
  bool operator==(const Transfer& o) const { return bytes == o.bytes && count == o.count; }
};

// Copies by direction plus by device pair ("cpu->cuda:0", "cuda:1->cuda:0";
// host-to-host copies have no pair).
struct Copies {
  std::array<Transfer, 4> by_direction;
  std::map<std::string, Transfer> device_pairs;

  Transfer& operator[](Direction d) { return by_direction[static_cast<size_t>(d)]; }
  const Transfer& operator[](Direction d) const { return by_direction[static_cast<size_t>(d)]; }
  // A copy of `bytes` from device `src` to `dst` (index -1 = host).
  void Add(int src, int dst, int64_t bytes, int64_t copies = 1);
  static Copies FromDriver(const cupti::DriverTally& driver);
};

struct DeviceMemory {
  int64_t allocated_bytes = 0;  // allocated during the load
  int64_t peak_bytes = 0;       // peak above the level at the start
  int64_t held_bytes = 0;       // still held at the end (above the start)
};

struct Ledger {
  Copies copies;
  std::map<std::string, Transfer> by_op;       // "aten::to", ...
  std::map<std::string, DeviceMemory> memory;  // "cpu", "cuda:0" -> ...
  std::vector<std::string> sources;            // "dispatcher", "virtual", ...
  std::vector<std::string> disagreements;
  // What this ledger's sources could not see, e.g. "memory.cpu" or "by_op"
  // for a loader traced through CUPTI injection. A bound on an unmeasured
  // field is reported as not measured, never judged against 0.
  std::vector<std::string> unmeasured;
  std::map<std::string, std::string> notes;  // per source: caveats, or why
                                             // it did not run
  double wall_seconds = 0;
  int64_t checkpoint_bytes = 0;

  const Transfer& transfer(Direction d) const { return copies[d]; }
  bool Measures(const std::string& field) const;
};

// The ledger of a loader traced in its own processes by CUPTI injection:
// copies and device memory (cudaMalloc level) from `tally`; host memory and
// ops unmeasured. `source` names who counted: "cupti-injection", or
// "virtual-cuda-runtime" where the devices were the virtual runtime's.
Ledger LedgerFromInjectedTally(const cupti::DriverTally& tally, const std::string& note,
                               const std::string& source = "cupti-injection");

// JSON: {"host_to_device": {"bytes", "count"}, ..., "device_pairs", "by_op",
// "memory", "sources", "disagreements", "unmeasured", "notes",
// "wall_seconds", "checkpoint_bytes"}; see docs/ledger.md.
void to_json(nlohmann::json& j, const Ledger& ledger);
void from_json(const nlohmann::json& j, Ledger& ledger);

}  // namespace harness::recorder

#endif  // HARNESS_RECORDER_LEDGER_H_
