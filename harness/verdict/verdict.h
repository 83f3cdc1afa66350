// What a case expects, what a worker measured, and the verdict comparing them.
// Outcomes follow LLVM lit: PASS, FAIL, XFAIL, XPASS, SKIPPED (UNSUPPORTED),
// plus the measurement's own error class when it never got as far.
//
//   Verdict v = Judge(expectation, measured);   // v.outcome, v.reasons
#ifndef HARNESS_VERDICT_VERDICT_H_
#define HARNESS_VERDICT_VERDICT_H_

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/base/status.h"
#include "harness/recorder/ledger.h"

namespace harness::verdict {

// A bound on bytes: exact, about ("~", within an allocator's rounding: 1% or
// 64 KiB, whichever is larger), at least or at most; absolute or a multiple
// of the checkpoint's storage bytes ("1.0x", "~1.0x", ">=2x").
struct ByteBound {
  enum class Op { kEq, kApprox, kGe, kLe } op = Op::kEq;
  double value = 0;
  bool relative = false;
  std::string text;  // as written in the scenario
  // nullopt when `text` does not parse.
  static std::optional<ByteBound> Parse(const std::string& text);
  bool Holds(int64_t bytes, int64_t checkpoint_bytes) const;
};

struct Expectation {
  ErrorClass outcome = ErrorClass::kOk;
  bool integrity = true;  // bit-exact against the manifest when ok
  bool sharing = true;    // views still share their base's storage
  bool placement = true;  // every tensor on the target when ok
  std::map<recorder::Direction, ByteBound> transfers;
  std::map<std::string, ByteBound> peak;  // "cuda:0" -> bound
  std::optional<std::string> xfail;       // reason
};

// What a worker measured for one case; travels from the worker to the
// runner and into report.json as JSON (to_json/from_json below).
struct Measured {
  Status outcome;
  std::string target;
  std::map<std::string, std::string> placement;  // tensor -> device
  std::optional<Status> integrity;               // when checked
  int64_t checkpoint_bytes = 0;
  // Absent for loaders the recorder cannot see; then `ledger_unavailable`
  // says why.
  std::optional<recorder::Ledger> ledger;
  std::string ledger_unavailable;

  // Bytes moved in `d`; 0 without a ledger.
  int64_t TransferBytes(recorder::Direction d) const;
  // Peak bytes on `device` ("cpu", "cuda:0"); 0 where not recorded.
  int64_t PeakBytes(const std::string& device) const;
};

// kFlaky: repetitions of one case (`replay --repeat N`) disagreed; Judge
// never returns it.
enum class Outcome { kPass, kFail, kXFail, kXPass, kSkipped, kFlaky };
std::string OutcomeName(Outcome o);
// Inverse of OutcomeName; nullopt for an unknown name.
std::optional<Outcome> OutcomeFromName(std::string_view name);
// FAIL, XPASS and FLAKY: the outcomes that fail a run.
bool IsFailing(Outcome o);

struct Verdict {
  Outcome outcome = Outcome::kFail;
  std::vector<std::string> reasons;  // why it failed / skipped / xfailed
};

Verdict Judge(const Expectation& expect, const Measured& measured);

// One way two measurements of a case differ: the outcome's class, the bytes
// moved in one direction, a device's peak, or (for two successful loads)
// whether there is a ledger at all. The one comparison behind `--repeat` (FLAKY), `replay merge` and
// `replay --baseline`.
struct Difference {
  enum class Kind { kOutcome, kBytes, kPeak, kLedger };
  Kind kind = Kind::kOutcome;
  std::string field;   // "outcome", "host_to_device", "peak cuda:0", "ledger"
  std::string before;  // as printed: "ok", "1048576"
  std::string after;
  int64_t delta = 0;   // after - before, for kBytes and kPeak
  // "host_to_device: 1048576 -> 2097152 (+1.0M)"
  std::string ToString() const;
};

// What counts as the same measurement. Bytes moved are exact unless a
// tolerance is given (absolute bytes, or a fraction of the larger value:
// whichever is larger). Peaks compare within the caching allocator's
// rounding: every block is rounded up to 512 bytes, and a load allocates at
// most one block per copy, so peaks within 512 bytes times the larger copy
// count (at least one) are the same.
struct Tolerance {
  int64_t bytes = 0;
  double bytes_fraction = 0;
  int64_t peak_rounding = 512;
};

// How `after` differs from `before`, in a stable order: outcome, ledger,
// directions (kDirections order), then peaks by device name. Empty when
// they are the same measurement.
std::vector<Difference> Compare(const Measured& before, const Measured& after, const Tolerance& tolerance = {});

// {"outcome": {"class", "message"}, "target", "placement", "integrity"?,
//  "checkpoint_bytes", "ledger"?, "ledger_unavailable"?}
void to_json(nlohmann::json& j, const Measured& m);
void from_json(const nlohmann::json& j, Measured& m);

}  // namespace harness::verdict

#endif  // HARNESS_VERDICT_VERDICT_H_
