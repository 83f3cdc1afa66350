// Scenario files: a truth table of strategies x environments for one fixture.
// The format is documented with a complete example in docs/scenarios.md.
// No LibTorch: the parser links only the fixture and environment
// descriptions.
//
//   harness::Result<std::vector<Case>> cases = LoadScenarioFile("scenarios/x.yaml");
//   // error: "scenarios/x.yaml:7:5: unknown key 'enviroments'"
//
// Each cell of the table becomes one Case named "<file stem>/<strategy>@<env>".
#ifndef HARNESS_SCENARIO_SCENARIO_H_
#define HARNESS_SCENARIO_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "fixtures/spec.h"
#include "harness/base/status.h"
#include "harness/env/environment_spec.h"
#include "harness/verdict/verdict.h"

namespace harness::scenario {

struct Requires {
  int min_gpus = 0;                // physical GPUs (real backend)
  std::optional<bool> cuda_build;  // LibTorch built with CUDA
  std::string torch_min;           // "2.0"
};

struct Case {
  std::string id;  // "mismatched_index/load_then_to@single-gpu"
  std::string file;
  fixtures::FixtureSpec fixture;
  env::EnvironmentSpec environment;
  std::string strategy;
  std::string command;     // external strategy's command line, if any
  std::string device_map;  // for `remap`: "cuda:1=cuda:0"
  std::string target;
  verdict::Expectation expect;
  Requires requires;
  double timeout_seconds = 120;
  // Files under scenarios/claims/ encode one claim of the seed article:
  // `claim: {id: C3, text: "..."}`; the expectations are the claim's
  // prediction, and cells the measurements contradict are `xfail`.
  std::string claim_id;
  std::string claim_text;
};

// Parses one file. Errors are kInvalidScenario with "file:line:column: ...",
// or kIoError for a path that is missing or no regular file (a FIFO, a
// directory). Limits: 1 MiB per file, 10,000 cells per table, timeouts of
// at most a day.
// With `known_strategies`, a strategy that is neither among them nor under
// `commands:` is an error too.
Result<std::vector<Case>> LoadScenarioFile(const std::string& path,
                                           const std::vector<std::string>* known_strategies = nullptr);
Result<std::vector<Case>> ParseScenario(const std::string& text, const std::string& path,
                                        const std::vector<std::string>* known_strategies = nullptr);

// The scenario files under `paths`: each path that is a directory is walked
// recursively for *.yaml (sorted); any other path, and a directory without
// any, is returned as given, so that LoadScenarioFile reports it (missing,
// not a regular file) instead of it vanishing from the run.
std::vector<std::string> FindScenarioFiles(const std::vector<std::string>& paths);

// Why `c` cannot run on `host` with `backend` (empty when it can): its
// `requires`, then whether the environment can be realized (in this process,
// or for an external command's process).
std::string SkipReason(const Case& c, env::Backend backend, const env::HostFacts& host);

// A name GoogleTest accepts: ASCII letters, digits and '_'.
std::string TestName(const std::string& id);

// The hardware a case exercises: what CI runners it belongs on.
struct HardwareNeeds {
  int gpus = 0;               // CUDA devices the loader sees, or `requires: {gpus: N}`
  bool driver_fault = false;  // a CUDA state other than ok (hidden, no device, ...)
  bool python = false;        // the command runs {python}, python, python3, python3.11...
};
HardwareNeeds NeedsOf(const Case& c);

// checkpoint_scenario_test (harness/defs.bzl) splits a file set into one
// test per hardware part, each tagged for CI filters (--test_tag_filters):
//
//   part                 tags
//   cpu                  -
//   gpu                  gpu
//   multi_gpu            gpu, multi-gpu
//   driver_fault         driver-fault
//   <any of these>_python    the same, plus python
//
// A driver fault takes precedence over the GPU count (the loader sees no
// device). Every case is in exactly one part.
std::string HardwarePart(const Case& c);
// Every part HardwarePart can return, in the table's order.
std::vector<std::string> HardwareParts();

// The relative file paths an external command names (words with a '/' that
// are neither placeholders nor options, quotes removed), e.g.
// "loader/load.py" in "{python} loader/load.py {checkpoint}": the files a
// Bazel test must carry in its runfiles (`data`).
std::vector<std::string> CommandFiles(const std::string& command);

// One part of a partition of cases: `index` in [0, count).
struct Shard {
  int index = 0;
  int count = 1;
};

// "K/N" as people write it (1 <= K <= N, K counted from 1), e.g. "2/4";
// kInvalidArgument otherwise.
Result<Shard> ParseShard(const std::string& text);

// Whether case `id` belongs to `shard`. Decided by a hash of the id alone,
// so a case stays in its shard when others are added or removed, and every
// case is in exactly one of the `count` shards. The replay CLI (--shard) and
// the GoogleTest replay (Bazel's TEST_SHARD_INDEX) split cases this way.
bool InShard(const std::string& id, const Shard& shard);

}  // namespace harness::scenario

#endif  // HARNESS_SCENARIO_SCENARIO_H_
