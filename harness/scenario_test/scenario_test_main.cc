// The main() of checkpoint_scenario_test (harness/defs.bzl): replays the
// scenario files named on its command line (default: scenarios/), one
// GoogleTest case per cell of each truth table, named
// "<file>_<strategy>_<environment>". A SKIPPED cell shows its reason; a
// failure prints the expectation and the ledger side by side.
//
// Bazel's sharding protocol is honoured with the partition the replay CLI
// uses (scenario::InShard, by case id): with shard_count = N, shard K
// registers only its own cells, so every cell runs exactly once. Each case's
// test XML carries its strategy, environment, backend, LibTorch version,
// bytes per direction and peak per device (RecordProperty).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "harness/base/status_json.h"
#include "harness/env/environment.h"
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
  ::testing::Test::RecordProperty("strategy", r.c.strategy);
  ::testing::Test::RecordProperty("environment", r.c.environment.name);
  ::testing::Test::RecordProperty("backend", std::string(env::BackendName(Options().backend)));
  ::testing::Test::RecordProperty("libtorch", Options().host.torch_version);
  ::testing::Test::RecordProperty("verdict", verdict::OutcomeName(r.verdict.outcome));
  if (r.verdict.outcome == verdict::Outcome::kSkipped) return;
  ::testing::Test::RecordProperty("outcome", std::string(ErrorClassName(r.measured.outcome.error_class())));
  if (!r.measured.ledger) {
    ::testing::Test::RecordProperty("ledger_unavailable", r.measured.ledger_unavailable);
    return;
  }
  for (recorder::Direction d : recorder::kDirections) {
    ::testing::Test::RecordProperty(std::string(recorder::DirectionName(d)) + "_bytes",
                                    std::to_string(r.measured.TransferBytes(d)));
  }
  for (const auto& [device, memory] : r.measured.ledger->memory) {
    ::testing::Test::RecordProperty("peak_" + device, std::to_string(memory.peak_bytes));
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

}  // namespace

int main(int argc, char** argv) {
  const scenario::Shard shard = BazelShard();
  ::testing::InitGoogleTest(&argc, argv);
  const char* tmp = std::getenv("TEST_TMPDIR");
  Options().backend = env::DefaultBackend();
  Options().host = env::ProbeHost(argv[0]);
  Options().cache_dir = std::string(tmp ? tmp : "/tmp") + "/fixtures";
  const std::vector<std::string> known = strategy::StrategyNames();
  std::vector<std::string> paths(argv + 1, argv + argc);  // what InitGoogleTest left
  if (paths.empty()) paths = {"scenarios"};
  int cells = 0, registered = 0;
  for (const std::string& file : scenario::FindScenarioFiles(paths)) {
    auto cases = scenario::LoadScenarioFile(file, &known);
    if (!cases.ok()) {
      std::fprintf(stderr, "%s\n", cases.status().message().c_str());
      return 1;
    }
    for (const scenario::Case& c : *cases) {
      ++cells;
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
  if (registered == 0) {
    std::fprintf(stderr, "shard %d of %d has none of the %d cells: lower shard_count\n", shard.index + 1, shard.count,
                 cells);
    return 1;
  }
  return RUN_ALL_TESTS();
}
