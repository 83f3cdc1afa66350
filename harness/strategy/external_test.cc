#include "harness/strategy/external.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace harness::strategy {
namespace {

using ::testing::HasSubstr;

TEST(ExpandCommandTest, SubstitutesQuotedPlaceholders) {
  setenv("HARNESS_PYTHON", "/opt/py 3/python", 1);
  EXPECT_EQ(ExpandCommand("{python} load.py {checkpoint} --to {target} --format {format}", "/tmp/it's.pt", "cuda:1",
                          "pickle"),
            "'/opt/py 3/python' load.py '/tmp/it'\\''s.pt' --to 'cuda:1' --format 'pickle'");
  unsetenv("HARNESS_PYTHON");
  EXPECT_EQ(ExpandCommand("{python}", "", "", ""), "'python3'");
}

TEST(ExpandCommandTest, QuotingSurvivesTheShell) {
  const std::string marker = std::string(std::getenv("TEST_TMPDIR")) + "/quoting_ran";
  const std::string nasty = "a b;$(touch " + marker + ")'\"`touch " + marker + "`";
  ExternalResult r = RunExternalCommand(
      ExpandCommand("printf '%s\\n' {checkpoint}; echo '{\"ok\": true}'", nasty, "cpu", "pickle"), {});
  EXPECT_TRUE(r.outcome.ok()) << r.outcome.ToString();
  EXPECT_EQ(r.raw_output, nasty + "\n{\"ok\": true}\n") << "the path reached the command changed";
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the checkpoint path was run as code";
}

TEST(RunExternalCommandTest, ReadsTheLastJsonLine) {
  ExternalResult r = RunExternalCommand(
      "echo 'warming up'; echo '{\"ok\": false}'; "
      "echo '{\"ok\": true, \"placement\": {\"w\": \"cpu\"}, \"sha256\": {\"w\": \"ab\"}, \"storage\": {\"w\": 7}}'; "
      "echo",
      {});
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.ToString();
  EXPECT_EQ(r.placement.at("w"), "cpu");
  EXPECT_EQ(r.sha256.at("w"), "ab");
  EXPECT_EQ(r.storage.at("w"), 7);
  EXPECT_THAT(r.raw_output, HasSubstr("warming up"));
}

TEST(RunExternalCommandTest, PassesTheEnvironment) {
  ExternalResult r =
      RunExternalCommand("echo \"{\\\"ok\\\": true, \\\"placement\\\": {\\\"w\\\": \\\"$CUDA_VISIBLE_DEVICES\\\"}}\"",
                         {{"CUDA_VISIBLE_DEVICES", "1,0"}});
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.ToString();
  EXPECT_EQ(r.placement.at("w"), "1,0");
}

TEST(RunExternalCommandTest, ErrorsAreClassifiedFromTheirMessage) {
  ExternalResult r = RunExternalCommand(
      "echo '{\"ok\": false, \"error\": \"RuntimeError: Attempting to deserialize object on CUDA device 1\"}'", {});
  EXPECT_EQ(r.outcome.error_class(), ErrorClass::kInvalidDeviceOrdinal);
}

TEST(RunExternalCommandTest, SkipIsPassedOn) {
  ExternalResult r = RunExternalCommand("echo '{\"skip\": \"no torch here\"}'", {});
  EXPECT_EQ(r.skip, "no torch here");
  EXPECT_TRUE(r.outcome.ok());
}

// A command that misbehaves says what it did, never crashes the harness:
// one that ends without a result is lost (unless its output names a class,
// or a signal killed it: crashed), one whose result breaks the protocol is
// an internal error.
TEST(RunExternalCommandTest, MisbehavingCommandsAreLostOrProtocolErrors) {
  const struct {
    const char* command;
    ErrorClass error_class;
    const char* says;
  } kRows[] = {
      {"echo 'Traceback: boom'; exit 3", ErrorClass::kLost, "printed no JSON result (exit 3): Traceback: boom"},
      {"echo 'MemoryError'; exit 1", ErrorClass::kOutOfMemory, "printed no JSON result (exit 1): MemoryError"},
      {"kill -9 $$", ErrorClass::kCrashed, "printed no JSON result (killed by SIGKILL)"},
      // A loader the shell ran died of a signal: the shell exits 128 + N.
      {"sh -c 'kill -BUS $$'; exit $?", ErrorClass::kCrashed,
       "printed no JSON result (killed by SIGBUS: a memory-mapped file was truncated"},
      {"exit 200", ErrorClass::kLost, "printed no JSON result (exit 200)"},
      {"exec >&- 2>&-; exit 0", ErrorClass::kLost, "printed no JSON result (exit 0)"},
      {"true", ErrorClass::kLost, "printed no JSON result (exit 0)"},
      {"echo '[1, 2]'", ErrorClass::kInternal, "a JSON array, not an object (exit 0)"},
      {"echo '{\"skip\": 5}'", ErrorClass::kInternal, "\"skip\" must be the reason, a non-empty string; got 5"},
      {"echo '{\"skip\": \"\"}'", ErrorClass::kInternal, "\"skip\" must be the reason, a non-empty string; got \"\""},
      {"echo '{\"ok\": true, \"placement\": {\"w\": 1}}'", ErrorClass::kInternal, "external strategy's JSON"},
  };
  for (const auto& row : kRows) {
    ExternalResult r = RunExternalCommand(row.command, {});
    EXPECT_EQ(r.outcome.error_class(), row.error_class) << row.command;
    EXPECT_THAT(r.outcome.message(), HasSubstr(row.says)) << row.command;
    EXPECT_TRUE(r.skip.empty()) << row.command;
  }
}

TEST(RunExternalCommandTest, RawOutputKeepsTheEnd) {
  ExternalResult r = RunExternalCommand("seq 1 5000; echo '{\"ok\": true}'", {});
  EXPECT_TRUE(r.outcome.ok());
  EXPECT_LE(r.raw_output.size(), 4096u);
  EXPECT_THAT(r.raw_output, HasSubstr("5000\n{\"ok\": true}"));
}

}  // namespace
}  // namespace harness::strategy
