// Runs one scenario case: generates (or reuses) its fixture in one worker,
// then realizes the environment, runs the strategy under the recorder and
// checks placement and integrity in a second worker, and judges the result.
//
//   CaseReport r = RunCase(c, {.backend = Backend::kVirtual, .host = ProbeHost(), .cache_dir = dir});
//   r.verdict.outcome == verdict::Outcome::kPass
#ifndef HARNESS_RUNNER_RUNNER_H_
#define HARNESS_RUNNER_RUNNER_H_

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "harness/env/environment_spec.h"
#include "harness/scenario/scenario.h"
#include "harness/verdict/verdict.h"

namespace harness::runner {

struct RunOptions {
  env::Backend backend = env::Backend::kVirtual;
  env::HostFacts host;
  std::string cache_dir;
};

struct CaseReport {
  scenario::Case c;
  verdict::Verdict verdict;
  verdict::Measured measured;
  std::string skip_reason;
  std::string command_output;  // external strategies: what the command printed
  std::string worker_output;   // what the worker printed (warnings, crash text)
  double wall_seconds = 0;
};

// report.json's entry for one case: the case's identity and expectation,
// the verdict, and (unless SKIPPED) everything measured.
void to_json(nlohmann::json& j, const CaseReport& r);

CaseReport RunCase(const scenario::Case& c, const RunOptions& options);

// The case's facts as (name, value) pairs, in this order: strategy,
// environment, hardware_part, verdict, then unless SKIPPED the outcome
// class, "<direction>_bytes" per direction and "peak_<device>" per device
// (or "ledger_unavailable" with the reason). The per-case properties of
// junit.xml and of checkpoint_scenario_test's XML.
std::vector<std::pair<std::string, std::string>> CaseProperties(const CaseReport& r);

// Where fixtures are cached: $HARNESS_CACHE_DIR, else ~/.cache/ckpt-harness/fixtures.
std::string DefaultCacheDir();

}  // namespace harness::runner

#endif  // HARNESS_RUNNER_RUNNER_H_
