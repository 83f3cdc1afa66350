// The main() of checkpoint_scenario_test (harness/defs.bzl): replays the
// scenario files named on its command line (default: scenarios/), one
// GoogleTest case per cell of each truth table, named
// "<file>.<strategy>_<environment>". A SKIPPED cell shows its reason; a
// failure prints the expectation and the ledger side by side.
//
// Bazel's sharding protocol is honoured with the partition the replay CLI
// uses (scenario::InShard, by case id): with shard_count = N, shard K
// registers only its own cells, so every cell runs exactly once. Each case's
// test XML carries its strategy, environment, backend, LibTorch version,
// bytes per direction and peak per device (RecordProperty).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/base/files.h"
#include "harness/base/status_json.h"
#include "harness/env/environment.h"
#include "harness/report/report.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/strategy/strategy.h"

namespace {

using namespace harness;  // NOLINT: a test main

runner::RunOptions& Options() {
  static runner::RunOptions options;
  return options;
}

// The case's facts as test XML properties, for dashboards and CI filters.
void RecordCaseProperties(const runner::CaseReport& r) {
  ::testing::Test::RecordProperty("backend", std::string(env::BackendName(Options().backend)));
  ::testing::Test::RecordProperty("libtorch", Options().host.torch_version);
  for (const auto& [name, value] : report::CaseProperties(report::ToResult(r))) {
    ::testing::Test::RecordProperty(name, value);
  }
}

class ScenarioCase : public ::testing::Test {
 public:
  explicit ScenarioCase(scenario::Case c) : case_(std::move(c)) {}
  void TestBody() override {
    runner::CaseReport r = runner::RunCase(case_, Options());
    RecordCaseProperties(r);
    std::string reasons;
    for (const auto& x : r.verdict.reasons) reasons += "\n  " + x;
    switch (r.verdict.outcome) {
      case verdict::Outcome::kSkipped:
        GTEST_SKIP() << r.skip_reason;
      case verdict::Outcome::kPass:
      case verdict::Outcome::kXFail:
        return;
      default:
        ADD_FAILURE() << case_.id << ": " << verdict::OutcomeName(r.verdict.outcome) << reasons
                      << "\nexpected outcome: " << ErrorClassName(case_.expect.outcome)
                      << "\nmeasured: " << r.measured.outcome.ToString() << "\nledger: "
                      << (r.measured.ledger ? DumpJson(*r.measured.ledger) : r.measured.ledger_unavailable)
                      << "\nworker output: " << r.worker_output;
    }
  }

 private:
  scenario::Case case_;
};

// This process's part of Bazel's shards; the whole when not sharded. Says
// to Bazel that sharding is supported (TEST_SHARD_STATUS_FILE), and keeps
// GoogleTest from sharding the registered cells a second time.
scenario::Shard BazelShard() {
  const char* total = std::getenv("TEST_TOTAL_SHARDS");
  const char* index = std::getenv("TEST_SHARD_INDEX");
  if (const char* status_file = std::getenv("TEST_SHARD_STATUS_FILE")) std::ofstream{status_file};
  unsetenv("GTEST_TOTAL_SHARDS");
  unsetenv("GTEST_SHARD_INDEX");
  if (total == nullptr || index == nullptr) return {};
  const scenario::Shard shard{std::atoi(index), std::atoi(total)};
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    std::fprintf(stderr, "TEST_SHARD_INDEX=%s, TEST_TOTAL_SHARDS=%s: not a shard; running every cell\n", index, total);
    return {};
  }
  return shard;
}

// A test that only says why it has nothing to replay: shown as SKIPPED with
// the reason in the log and the XML, so an empty part is never silent.
void RegisterNothingToReplay(const std::string& part, const std::string& why) {
  ::testing::RegisterTest("NothingToReplay", scenario::TestName(part).c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [why]() -> ::testing::Test* {
                            struct Skip : ::testing::Test {
                              explicit Skip(std::string w) : why(std::move(w)) {}
                              void TestBody() override { GTEST_SKIP() << why; }
                              std::string why;
                            };
                            return new Skip(why);
                          });
}

// Takes "--NAME=VALUE" out of argv; `fallback` when absent.
std::string TakeFlag(int* argc, char** argv, const std::string& name, std::string fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < *argc; ++i) {
    if (std::string(argv[i]).rfind(prefix, 0) != 0) continue;
    std::string value = argv[i] + prefix.size();
    std::copy(argv + i + 1, argv + *argc, argv + i);
    --*argc;
    return value;
  }
  return fallback;
}

std::set<std::string> SplitCommas(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.insert(item);
  return out;
}

}  // namespace

// Flags (set by harness/defs.bzl): --hardware_part=P replays only the cells
// of part P (scenario::HardwarePart; default: every cell); --hardware_parts
// lists every part the rule generated, so that a cell in none of them is an
// error rather than a cell no test replays. The rest are scenario paths.
int main(int argc, char** argv) {
  const scenario::Shard shard = BazelShard();
  ::testing::InitGoogleTest(&argc, argv);
  const std::string part = TakeFlag(&argc, argv, "hardware_part", "");
  const std::set<std::string> generated = SplitCommas(TakeFlag(&argc, argv, "hardware_parts", ""));
  const std::vector<std::string> known_parts = scenario::HardwareParts();
  for (const std::string& p : generated) {
    if (std::find(known_parts.begin(), known_parts.end(), p) == known_parts.end()) {
      std::fprintf(stderr, "--hardware_parts: unknown part '%s'\n", p.c_str());
      return 1;
    }
  }
  if (!part.empty() && std::find(known_parts.begin(), known_parts.end(), part) == known_parts.end()) {
    std::fprintf(stderr, "--hardware_part=%s: unknown part (scenario::HardwareParts)\n", part.c_str());
    return 1;
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  Options().backend = env::DefaultBackend();
  Options().host = env::ProbeHost(argv[0]);
  Options().cache_dir = std::string(tmp ? tmp : "/tmp") + "/fixtures";
  Options().worker_memory_bytes = runner::DefaultWorkerMemoryLimit(Options().host);
  const std::vector<std::string> known = strategy::StrategyNames();
  std::vector<std::string> paths(argv + 1, argv + argc);  // what InitGoogleTest left
  if (paths.empty()) paths = {"scenarios"};
  int cells = 0, in_part = 0, registered = 0;
  for (const std::string& file : scenario::FindScenarioFiles(paths)) {
    auto cases = scenario::LoadScenarioFile(file, &known);
    if (!cases.ok()) {
      std::fprintf(stderr, "%s\n", cases.status().message().c_str());
      return 1;
    }
    for (const scenario::Case& c : *cases) {
      ++cells;
      const std::string cell_part = scenario::HardwarePart(c);
      if (!generated.empty() && generated.count(cell_part) == 0) {
        std::fprintf(stderr, "%s: %s needs hardware part '%s', which this rule does not generate\n", c.file.c_str(),
                     c.id.c_str(), cell_part.c_str());
        return 1;
      }
      for (const std::string& needed : scenario::CommandFiles(c.command)) {
        if (FileExists(needed)) continue;
        std::fprintf(stderr,
                     "%s: the command of '%s' runs %s, which is not in this test's runfiles: add it to the `data` of "
                     "checkpoint_scenario_test\n",
                     c.file.c_str(), c.strategy.c_str(), needed.c_str());
        return 1;
      }
      if (!part.empty() && cell_part != part) continue;
      ++in_part;
      if (!scenario::InShard(c.id, shard)) continue;
      std::string stem = c.id.substr(0, c.id.find('/'));
      ::testing::RegisterTest(scenario::TestName(stem).c_str(),
                              scenario::TestName(c.strategy + "@" + c.environment.name).c_str(), nullptr, nullptr,
                              __FILE__, __LINE__, [c]() -> ::testing::Test* { return new ScenarioCase(c); });
      ++registered;
    }
  }
  if (cells == 0) {
    std::fprintf(stderr, "no scenario cases found in the %zu path(s) given\n", paths.size());
    return 1;
  }
  if (shard.count > cells) {
    std::fprintf(stderr, "shard_count = %d is more than the %d cells of these scenario files: lower shard_count\n",
                 shard.count, cells);
    return 1;
  }
  const std::string part_name = part.empty() ? "all" : part;
  if (in_part == 0) {
    RegisterNothingToReplay(part_name, "none of the " + std::to_string(cells) + " cells of these files is in part '" +
                                           part_name + "' (scenario::HardwarePart)");
  } else if (registered == 0) {
    RegisterNothingToReplay(part_name, "shard " + std::to_string(shard.index + 1) + " of " +
                                           std::to_string(shard.count) + " drew none of the " +
                                           std::to_string(in_part) + " cells in part '" + part_name + "'");
  }
  return RUN_ALL_TESTS();
}
