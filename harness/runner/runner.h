// Runs one scenario case: generates (or reuses) its fixture in one worker,
// then realizes the environment, runs the strategy under the recorder and
// checks placement and integrity in a second worker, and judges the result.
//
//   CaseReport r = RunCase(c, {.backend = Backend::kVirtual, .host = ProbeHost(), .cache_dir = dir});
//   r.verdict.outcome == verdict::Outcome::kPass
#ifndef HARNESS_RUNNER_RUNNER_H_
#define HARNESS_RUNNER_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "harness/env/environment_spec.h"
#include "harness/scenario/scenario.h"
#include "harness/strategy/python_fork_server.h"
#include "harness/verdict/verdict.h"

namespace harness::runner {

struct RunOptions {
  env::Backend backend = env::Backend::kVirtual;
  env::HostFacts host;
  std::string cache_dir;
  // Each worker's data cap (worker::RunInWorker); 0 = none.
  // DefaultWorkerMemoryLimit(host) is what replay and the scenario tests use.
  int64_t worker_memory_bytes = 0;
};

// Three quarters of the host's available memory when it is known, else 0:
// room for a real load, and a loader that allocates without bound fails as
// out-of-memory before the host does.
int64_t DefaultWorkerMemoryLimit(const env::HostFacts& host);

struct CaseReport {
  scenario::Case c;
  verdict::Verdict verdict;
  verdict::Measured measured;
  std::string skip_reason;
  std::string command_output;  // external strategies: what the command printed
  std::string worker_output;   // what the worker printed (warnings, crash text)
  double wall_seconds = 0;
  int repetitions = 1;  // how often it ran (replay --repeat)
};

CaseReport RunCase(const scenario::Case& c, const RunOptions& options);

// The Python fork servers that `cases` can use (strategy/python_fork_server.h):
// when one of them runs Python and $HARNESS_PYTHON names the interpreter,
// one server per LD_PRELOAD their cells get (the CUPTI injection library;
// with the virtual CUDA runtime for virtual GPUs). They serve
// RunExternalCommand until destroyed. A server that does not start is
// reported in `why_not` and its cells run as fresh processes.
std::vector<std::unique_ptr<strategy::PythonForkServer>> StartPythonForkServers(
    const std::vector<scenario::Case>& cases, const RunOptions& options, std::string* why_not);

// Runs `c` `repeat` times, each in workers of its own. When repetitions
// disagree (verdict, or verdict::Compare on what they measured) the first
// one's report comes back as FLAKY with a reason per repetition that
// differs: "repetition 3 of 5: host_to_device: 1048576 -> 2097152 (+1.00 MiB)".
// A SKIPPED case runs once.
CaseReport RunCaseRepeated(const scenario::Case& c, const RunOptions& options, int repeat);

// Where fixtures are cached: $HARNESS_CACHE_DIR, else ~/.cache/ckpt-harness/fixtures.
std::string DefaultCacheDir();

}  // namespace harness::runner

#endif  // HARNESS_RUNNER_RUNNER_H_
