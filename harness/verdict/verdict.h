// What a case expects, what a worker measured, and the verdict comparing them.
// Outcomes follow LLVM lit: PASS, FAIL, XFAIL, XPASS, SKIPPED (UNSUPPORTED),
// plus the measurement's own error class when it never got as far.
//
//   Verdict v = Judge(expectation, measured);   // v.outcome, v.reasons
#ifndef HARNESS_VERDICT_VERDICT_H_
#define HARNESS_VERDICT_VERDICT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/base/status.h"

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
  bool integrity = true;        // bit-exact against the manifest when ok
  bool sharing = true;          // views still share their base's storage
  bool placement = true;        // every tensor on the target when ok
  std::map<std::string, ByteBound> transfers;  // "host_to_device" -> bound
  std::map<std::string, ByteBound> peak;       // "cuda:0" -> bound
  std::optional<std::string> xfail;            // reason
};

// What a worker reports for one case (parsed from its JSON).
struct Measured {
  Status outcome;
  std::string target;
  std::map<std::string, std::string> placement;   // tensor -> device
  std::optional<Status> integrity;                // when checked
  std::map<std::string, int64_t> transfer_bytes;  // direction -> bytes
  std::map<std::string, int64_t> peak_bytes;      // device -> bytes
  int64_t checkpoint_bytes = 0;
  bool has_ledger = false;   // false for loaders the recorder cannot see
  std::string ledger_unavailable;   // why, when there is no ledger
  std::set<std::string> unmeasured; // ledger fields its sources could not
                                    // see ("memory.cpu"); see ledger.h
  std::string ledger_json;
};

enum class Outcome { kPass, kFail, kXFail, kXPass, kSkipped };
std::string OutcomeName(Outcome o);

struct Verdict {
  Outcome outcome = Outcome::kFail;
  std::vector<std::string> reasons;   // why it failed / skipped / xfailed
};

Verdict Judge(const Expectation& expect, const Measured& measured);

}  // namespace harness::verdict

#endif  // HARNESS_VERDICT_VERDICT_H_
