// The scenario test main as Bazel runs it: hardware parts and shards that
// together list every cell exactly once, and the mistakes a user can make in
// checkpoint_scenario_test stopping the test at start with the fix.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "harness/base/subprocess.h"
#include "harness/scenario/scenario.h"

namespace harness {
namespace {

constexpr char kMain[] = "harness/scenario_test/scenario_test_main_for_test";

struct MainRun {
  int exit_code;
  std::string output;
};

MainRun RunMain(std::vector<std::string> args, int shard_index = -1, int shard_count = 0) {
  args.insert(args.begin(), kMain);
  const std::string tmp = std::getenv("TEST_TMPDIR");
  std::vector<std::pair<std::string, std::string>> env = {
      {"XML_OUTPUT_FILE", tmp + "/child.xml"},  // not this test's own XML
      {"TEST_SHARD_STATUS_FILE", tmp + "/child.shard"},
  };
  if (shard_count > 0) {
    env.push_back({"TEST_TOTAL_SHARDS", std::to_string(shard_count)});
    env.push_back({"TEST_SHARD_INDEX", std::to_string(shard_index)});
  }
  ChildOptions options;
  options.timeout_seconds = 120;
  Child c = RunProgram(args, env, options);
  EXPECT_TRUE(c.exited) << c.output;
  return {c.exit_code, c.output};
}

// "Suite.test" for each case --gtest_list_tests prints.
std::vector<std::string> ListedCases(const std::string& listing) {
  std::vector<std::string> cases;
  std::istringstream lines(listing);
  std::string suite;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line.back() == '.') {
      suite = line;
    } else if (line.rfind("  ", 0) == 0 && !suite.empty()) {
      cases.push_back(suite + line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return cases;
}

std::string WriteScenario(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ScenarioTestMain, PartsAndShardsListEveryCellExactlyOnce) {
  const MainRun all = RunMain({"--gtest_list_tests", "scenarios"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  const std::vector<std::string> every_cell = ListedCases(all.output);
  ASSERT_GT(every_cell.size(), 100u);
  std::map<std::string, int> times_listed;
  for (const std::string& part : scenario::HardwareParts()) {
    for (int shard = 0; shard < 2; ++shard) {
      const MainRun r = RunMain({"--gtest_list_tests", "--hardware_part=" + part, "scenarios"}, shard, 2);
      ASSERT_EQ(r.exit_code, 0) << part << ": " << r.output;
      for (const std::string& c : ListedCases(r.output)) {
        if (c.rfind("NothingToReplay.", 0) != 0) ++times_listed[c];
      }
    }
  }
  for (const std::string& c : every_cell) EXPECT_EQ(times_listed[c], 1) << c;
  EXPECT_EQ(times_listed.size(), every_cell.size());
}

TEST(ScenarioTestMain, APartNoFileNeedsIsOneSkippedCaseThatSaysSo) {
  const std::string file = WriteScenario(
      "cpu_only.yaml", "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\n"
                       "expect: {outcome: {map_location: [ok]}}\n");
  const MainRun r = RunMain({"--hardware_part=multi_gpu", file});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("none of the 1 cells of these files is in part 'multi_gpu'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 test, listed below:\n[  SKIPPED ] NothingToReplay.multi_gpu"), std::string::npos)
      << r.output;
}

TEST(ScenarioTestMain, MistakesInTheRuleStopTheTestWithTheFix) {
  const std::string cpu_only = WriteScenario(
      "two_cells.yaml", "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu, dual-gpu]\nstrategies: [map_location]\n"
                        "expect: {outcome: {map_location: [ok, ok]}}\n");
  const std::string missing_script = WriteScenario(
      "missing_script.yaml", "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [py]\n"
                             "commands: {py: \"{python} loader/not_in_data.py {checkpoint}\"}\n"
                             "expect: {outcome: {py: [ok]}}\n");
  const struct {
    std::vector<std::string> args;
    int shards;
    std::string message;
  } kMistakes[] = {
      {{missing_script}, 0,
       "missing_script.yaml: the command of 'py' runs loader/not_in_data.py, which is not in this test's runfiles: "
       "add it to the `data` of checkpoint_scenario_test"},
      {{cpu_only}, 3, "shard_count = 3 is more than the 2 cells of these scenario files: lower shard_count"},
      {{"--hardware_parts=cpu,gpu", cpu_only}, 0,
       "two_cells/map_location@dual-gpu needs hardware part 'multi_gpu', which this rule does not generate"},
      {{"--hardware_part=cpu", "/nonexistent/dir/x.yaml"}, 0, "/nonexistent/dir/x.yaml"},
      {{"--hardware_part=gpus", cpu_only}, 0, "--hardware_part=gpus: unknown part"},
  };
  for (const auto& mistake : kMistakes) {
    const MainRun r = RunMain(mistake.args, mistake.shards > 0 ? 0 : -1, mistake.shards);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(mistake.message), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace harness
