// Replays scenarios/**/*.yaml: one GoogleTest case per cell of each truth
// table, named "<file>_<strategy>_<environment>". A SKIPPED cell shows its
// reason; a failure prints the expectation and the ledger side by side.
#include <gtest/gtest.h>

#include <cstdlib>

#include "harness/base/status_json.h"
#include "harness/env/environment.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/strategy/strategy.h"

namespace {

using namespace harness;

runner::RunOptions& Options() {
  static runner::RunOptions options;
  return options;
}

class ScenarioCase : public ::testing::Test {
 public:
  explicit ScenarioCase(scenario::Case c) : case_(std::move(c)) {}
  void TestBody() override {
    runner::CaseReport r = runner::RunCase(case_, Options());
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

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* tmp = std::getenv("TEST_TMPDIR");
  Options().backend = env::DefaultBackend();
  Options().host = env::ProbeHost(argv[0]);
  Options().cache_dir = std::string(tmp ? tmp : "/tmp") + "/fixtures";
  int registered = 0;
  for (const std::string& file : scenario::FindScenarioFiles({"scenarios"})) {
    std::vector<std::string> known = strategy::StrategyNames();
    auto cases = scenario::LoadScenarioFile(file, &known);
    if (!cases.ok()) {
      std::fprintf(stderr, "%s\n", cases.status().message().c_str());
      return 1;
    }
    for (const scenario::Case& c : *cases) {
      std::string stem = c.id.substr(0, c.id.find('/'));
      ::testing::RegisterTest(scenario::TestName(stem).c_str(),
                              scenario::TestName(c.strategy + "@" + c.environment.name).c_str(), nullptr, nullptr,
                              __FILE__, __LINE__, [c]() -> ::testing::Test* { return new ScenarioCase(c); });
      ++registered;
    }
  }
  if (registered == 0) {
    std::fprintf(stderr, "no scenario cases found\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
