// Malformed scenario files (tests/badinput/scenarios/, plus a few made here
// that cannot be committed: a 20 MB file, 1000-deep nesting, a FIFO, a
// directory, a missing path, a symbolic link to /dev/zero). Each must end as
// a classified error that names the file and, for YAML, the line and column,
// both in the parser (in-process) and through `replay --validate` (a
// process: no signal, no hang, and a good file in the same run stays valid).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "harness/base/files.h"
#include "harness/base/subprocess.h"
#include "harness/scenario/scenario.h"

namespace harness {
namespace {

constexpr char kCorpus[] = "tests/badinput/scenarios";
constexpr char kReplay[] = "harness/cli/replay";

struct BadScenario {
  const char* file;        // under kCorpus, or made by MakeGeneratedInputs
  ErrorClass error_class;  // what LoadScenarioFile returns
  const char* position;    // "line:column" after the path; "" where there is none (not YAML)
  const char* says;        // a part of the message
};

constexpr ErrorClass kYaml = ErrorClass::kInvalidScenario;
const BadScenario kBadScenarios[] = {
    {"billion_laughs.yaml", kYaml, "2:14", "unknown key 'x' in fixture"},
    {"duplicate_key_nested.yaml", kYaml, "8:5", "duplicate key 'map_location'"},
    {"duplicate_key_top_level.yaml", kYaml, "8:1", "duplicate key 'target'"},
    {"empty.yaml", kYaml, "1:1", "the file is empty"},
    {"environment_listed_twice.yaml", kYaml, "3:29", "environment 'missing-gpu' is listed twice"},
    {"environments_not_a_list.yaml", kYaml, "3:15", "environments must be a list"},
    {"golden_path_traversal.yaml", kYaml, "1:19", "golden must name a file in fixtures/golden/"},
    {"non_utf8_target.yaml", kYaml, "2:9", "target: invalid device"},
    {"outcome_row_too_short.yaml", kYaml, "7:19", "must list 2 outcomes, one per environment"},
    {"outcome_unknown_class.yaml", kYaml, "7:24", "unknown outcome 'explodes'"},
    {"placement_index_not_a_number.yaml", kYaml, "1:10", "placement 'cuda:x' is not cpu, cuda:K or split:N"},
    {"placement_negative_index.yaml", kYaml, "1:10", "placement 'cuda:-1' is not cpu, cuda:K or split:N"},
    {"placement_split_garbage.yaml", kYaml, "1:10", "placement 'split:1x'"},
    {"placement_split_zero.yaml", kYaml, "1:10", "placement 'split:0'"},
    {"remap_malformed.yaml", kYaml, "8:8", "remap: device map 'cuda:1=>cuda:0'"},
    {"requires_torch_not_a_version.yaml", kYaml, "8:19", "torch must be a version like 2.0"},
    {"size_1TiB.yaml", kYaml, "1:33", "size '1TiB'"},
    {"size_negative.yaml", kYaml, "1:33", "size '-1KiB'"},
    {"size_unknown_unit.yaml", kYaml, "1:33", "size '12XB'"},
    {"size_zero.yaml", kYaml, "1:10", "fixture size must be in [1 byte, 64 GiB], got 0"},
    {"syntax_unclosed_flow.yaml", kYaml, "2:7", "end of sequence flow not found"},
    {"tab_indentation.yaml", kYaml, "4:2", "illegal block entry"},
    {"target_index_overflow.yaml", kYaml, "2:9", "device index 99999999999 is out of range"},
    {"target_unknown_device.yaml", kYaml, "2:9", "unsupported device type 'tpu'"},
    {"timeout_negative.yaml", kYaml, "8:10", "timeout must be in [1, 86400] seconds"},
    {"timeout_overflow.yaml", kYaml, "8:10", "timeout must be in [1, 86400] seconds"},
    {"timeout_zero.yaml", kYaml, "8:10", "timeout must be in [1, 86400] seconds"},
    {"top_level_list.yaml", kYaml, "1:1", "scenario must be a mapping"},
    {"transfer_bound_nan.yaml", kYaml, "9:36", "bound '.nan' is not like"},
    {"transfer_bound_not_a_size.yaml", kYaml, "9:36", "bound 'abc' is not like"},
    {"transfer_bound_unknown_unit.yaml", kYaml, "9:36", "bound '1.0y' is not like"},
    {"unknown_key.yaml", kYaml, "3:1", "unknown key 'enviroments' in scenario"},
    {"unknown_preset.yaml", kYaml, "3:29", "unknown environment preset 'quad-tpu'"},
    {"unknown_strategy.yaml", kYaml, "4:14", "unknown strategy 'map_locaton'"},
    {"xfail_matches_no_cell.yaml", kYaml, "9:3", "xfail 'map_location@dual-gpu' matches no cell"},
    // Made by MakeGeneratedInputs.
    {"generated/huge_20MB.yaml", kYaml, "1:1", "the file is 20.00 MiB; YAML files here are limited to 1.00 MiB"},
    {"generated/nesting_1000_deep.yaml", kYaml, "1:2010", "the YAML cannot be parsed (nested too deeply?)"},
    {"generated/cells_1M.yaml", kYaml, "4:13", "1000 strategies x 1000 environments is more than 10000 cells"},
    {"generated/fifo.yaml", ErrorClass::kIoError, "", "not a regular file"},
    {"generated/directory.yaml", ErrorClass::kIoError, "", "is a directory"},
    {"generated/missing.yaml", ErrorClass::kIoError, "", "No such file or directory"},
    {"generated/dev_zero.yaml", ErrorClass::kIoError, "", "not a regular file"},
};

// What //harness/cli:replay links in (//harness/strategy:builtin).
const std::vector<std::string> kLinkedStrategies = {"cpu_then_to", "load_then_to", "map_location", "remap",
                                                    "state_dict"};

std::string Generated() { return std::string(std::getenv("TEST_TMPDIR")) + "/generated"; }

std::string PathOf(const BadScenario& bad) {
  const std::string file = bad.file;
  return file.rfind("generated/", 0) == 0 ? Generated() + file.substr(9) : std::string(kCorpus) + "/" + file;
}

void MakeGeneratedInputs() {
  static bool made = false;
  if (made) return;
  made = true;
  const std::string dir = Generated();
  ASSERT_TRUE(MakeDirectories(dir + "/directory.yaml").ok());
  {
    std::ofstream huge(dir + "/huge_20MB.yaml");
    huge << "description: \"";
    huge << std::string(20 << 20, 'x') << "\"\n";
  }
  std::ofstream(dir + "/nesting_1000_deep.yaml") << "fixture: " << std::string(1000, '[') << std::string(1000, ']')
                                                  << "\n";
  {
    std::ofstream cells(dir + "/cells_1M.yaml");
    cells << "fixture: {}\ntarget: cpu\nenvironments: [";
    for (int i = 0; i < 1000; ++i) cells << (i ? ", " : "") << "{name: e" << i << "}";
    cells << "]\nstrategies: [";
    for (int i = 0; i < 1000; ++i) cells << (i ? ", " : "") << "s" << i;
    cells << "]\nexpect: {outcome: {}}\n";
  }
  ASSERT_EQ(mkfifo((dir + "/fifo.yaml").c_str(), 0600), 0);
  ASSERT_EQ(symlink("/dev/zero", (dir + "/dev_zero.yaml").c_str()), 0);
}

TEST(BadScenarios, EveryCommittedInputHasItsExpectation) {
  Result<std::vector<std::string>> names = ListDirectory(kCorpus);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  std::set<std::string> in_table;
  for (const BadScenario& bad : kBadScenarios) in_table.insert(bad.file);
  for (const std::string& name : *names) EXPECT_TRUE(in_table.count(name)) << name << " has no row in kBadScenarios";
  EXPECT_GE(names->size(), 25u);
}

TEST(BadScenarios, TheParserClassifiesEachAndNamesFileLineAndColumn) {
  MakeGeneratedInputs();
  for (const BadScenario& bad : kBadScenarios) {
    const std::string path = PathOf(bad);
    Result<std::vector<scenario::Case>> cases = scenario::LoadScenarioFile(path, &kLinkedStrategies);
    ASSERT_FALSE(cases.ok()) << bad.file << " was accepted";
    EXPECT_EQ(cases.status().error_class(), bad.error_class) << cases.status().ToString();
    const std::string& message = cases.status().message();
    const std::string where = path + (*bad.position ? std::string(":") + bad.position + ": " : ": ");
    EXPECT_EQ(message.rfind(where, 0), 0u) << "expected to start with " << where << "\n got " << message;
    EXPECT_NE(message.find(bad.says), std::string::npos) << message;
  }
}

TEST(BadScenarios, ReplayValidateReportsEachAndKeepsTheGoodFile) {
  MakeGeneratedInputs();
  int inputs = 0, crashes = 0, unclassified = 0;
  for (const BadScenario& bad : kBadScenarios) {
    ChildOptions options;
    options.timeout_seconds = 60;
    const Child c = RunProgram({kReplay, "--validate", "scenarios/mismatched_index.yaml", PathOf(bad)}, {}, options);
    ++inputs;
    crashes += !c.exited;
    EXPECT_TRUE(c.exited) << bad.file << ": " << (c.timed_out ? "hung" : "signal " + SignalName(c.signal));
    EXPECT_EQ(c.exit_code, 1) << c.output;
    EXPECT_NE(c.output.find(PathOf(bad)), std::string::npos) << c.output;
    const bool classified = c.output.find(bad.says) != std::string::npos;
    unclassified += !classified;
    EXPECT_TRUE(classified) << c.output;
    EXPECT_NE(c.output.find("1 file(s) valid, 1 invalid"), std::string::npos) << c.output;
  }
  std::printf("%d inputs, %d harness crashes, %d unclassified, 0 code executions (scenario files run no code)\n",
              inputs, crashes, unclassified);
}

}  // namespace
}  // namespace harness
