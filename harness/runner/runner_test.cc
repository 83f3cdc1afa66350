// One case end to end, on whichever leg this builds: a good load, a skip, a
// strategy that crashes its worker, external commands that hang, skip or
// lie, and the report entry each becomes.
#include "harness/runner/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

#include "harness/env/environment.h"
#include "harness/strategy/strategy.h"

namespace harness::runner {
namespace {

using ::testing::HasSubstr;
using verdict::Outcome;

// Kills its worker, as a loader with a memory error would.
class Segfaulting : public strategy::Strategy {
 public:
  std::string_view name() const override { return "runner_test_segfaulting"; }
  fixtures::LoadedCheckpoint Load(const strategy::LoadRequest&) const override {
    raise(SIGSEGV);
    throw std::logic_error("unreachable");
  }
};
HARNESS_REGISTER_STRATEGY(Segfaulting);

RunOptions Options() {
  RunOptions o;
  o.backend = env::DefaultBackend();
  o.host = env::ProbeHost();
  o.cache_dir = std::string(std::getenv("TEST_TMPDIR")) + "/fixtures";
  return o;
}

scenario::Case CpuCase(const std::string& strategy) {
  scenario::Case c;
  c.id = "runner_test/" + strategy + "@missing-gpu";
  c.file = "runner_test.yaml";
  c.fixture.format = fixtures::Format::kPickle;
  c.fixture.total_bytes = 16 << 10;
  c.environment = *env::EnvironmentPreset("missing-gpu");
  c.strategy = strategy;
  c.target = "cpu";
  c.timeout_seconds = 60;
  return c;
}

TEST(RunCaseTest, ABuiltInLoadPassesWithItsLedger) {
  CaseReport r = RunCase(CpuCase("map_location"), Options());
  ASSERT_EQ(r.verdict.outcome, Outcome::kPass) << ::testing::PrintToString(r.verdict.reasons) << r.worker_output;
  ASSERT_TRUE(r.measured.ledger.has_value());
  EXPECT_EQ(r.measured.TransferBytes(recorder::Direction::kHostToDevice), 0);
  EXPECT_GT(r.measured.checkpoint_bytes, 0);
  EXPECT_EQ(r.measured.placement.at("layer0_weight"), "cpu");
  EXPECT_TRUE(r.measured.integrity.has_value() && r.measured.integrity->ok());
}

TEST(RunCaseTest, AWrongExpectationFailsWithTheReason) {
  scenario::Case c = CpuCase("map_location");
  c.expect.transfers[recorder::Direction::kHostToDevice] = *verdict::ByteBound::Parse("1.0x");
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFail);
  EXPECT_THAT(r.verdict.reasons.at(0), HasSubstr("transfers.host_to_device: expected 1.0x, measured 0 B"));
}

TEST(RunCaseTest, AnEnvironmentTheHostCannotMakeIsSkippedWithoutAReportedOutcome) {
  scenario::Case c = CpuCase("map_location");
  c.environment = *env::EnvironmentPreset("dual-gpu");
  c.environment.gpus = 17;  // more than any host here has, or virtual devices play
  c.command = "true";       // an external command: needs physical GPUs
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.verdict.outcome, Outcome::kSkipped);
  EXPECT_THAT(r.skip_reason, HasSubstr("needs 17 GPU(s)"));
}

TEST(RunCaseTest, AStrategyThatCrashesItsWorkerIsCrashedAndTheRunGoesOn) {
  CaseReport r = RunCase(CpuCase("runner_test_segfaulting"), Options());
  EXPECT_EQ(r.measured.outcome.error_class(), ErrorClass::kCrashed);
  // The loader crashed on a sound file: the archive check says so beside the crash.
  EXPECT_EQ(r.measured.outcome.message(), "crashed(SIGSEGV); archive check: no structural problem found");
  EXPECT_EQ(r.verdict.outcome, Outcome::kFail);
  EXPECT_EQ(RunCase(CpuCase("map_location"), Options()).verdict.outcome, Outcome::kPass);
}

TEST(RunCaseTest, AStrategyThatIsNotLinkedInIsAnInvalidScenario) {
  CaseReport r = RunCase(CpuCase("not_linked"), Options());
  EXPECT_EQ(r.measured.outcome.error_class(), ErrorClass::kInvalidScenario);
}

TEST(RunCaseTest, AnExternalCommandThatHangsTimesOut) {
  scenario::Case c = CpuCase("sleeper");
  c.command = "sleep 30";
  c.timeout_seconds = 1;
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.measured.outcome.error_class(), ErrorClass::kTimeout);
  EXPECT_LT(r.wall_seconds, 20);
}

TEST(RunCaseTest, AnExternalCommandsSkipIsASkip) {
  scenario::Case c = CpuCase("skipper");
  c.command = "echo '{\"skip\": \"no torch here\"}'";
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.verdict.outcome, Outcome::kSkipped);
  EXPECT_EQ(r.skip_reason, "no torch here");
}

TEST(RunCaseTest, AnExternalCommandWhoseBytesDifferFailsIntegrity) {
  scenario::Case c = CpuCase("liar");
  c.command = "echo '{\"ok\": true, \"placement\": {}, \"sha256\": {\"layer0_weight\": \"00\"}}'";
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.measured.outcome.error_class(), ErrorClass::kOk);
  ASSERT_TRUE(r.measured.integrity.has_value());
  EXPECT_THAT(r.measured.integrity->message(), HasSubstr("layer0_weight: bytes differ (sha256)"));
  EXPECT_EQ(r.verdict.outcome, Outcome::kFail);
}

TEST(RunCaseTest, AnInvalidFixtureFailsAsFixtureGeneration) {
  scenario::Case c = CpuCase("map_location");
  c.fixture.golden = "no_such_golden_file";
  CaseReport r = RunCase(c, Options());
  EXPECT_EQ(r.verdict.outcome, Outcome::kFail);
  EXPECT_THAT(r.verdict.reasons.at(0), HasSubstr("fixture generation failed: io-error: golden fixture"));
}

TEST(RunCaseRepeatedTest, RepetitionsThatAgreeKeepTheirVerdict) {
  CaseReport r = RunCaseRepeated(CpuCase("map_location"), Options(), 3);
  EXPECT_EQ(r.verdict.outcome, Outcome::kPass) << ::testing::PrintToString(r.verdict.reasons);
  EXPECT_EQ(r.repetitions, 3);
}

TEST(RunCaseRepeatedTest, ALoaderThatAnswersDifferentlyEachTimeIsFlakyWithWhatDiffered) {
  // Every second run of this loader dies; the others lie about the bytes.
  const std::string counter = std::string(std::getenv("TEST_TMPDIR")) + "/flaky_runs";
  scenario::Case c = CpuCase("flaky");
  c.command = "n=$(cat " + counter + " 2>/dev/null || echo 0); echo $((n + 1)) > " + counter +
              "; [ $((n % 2)) -eq 0 ] || exit 3; "
              "echo '{\"ok\": true, \"placement\": {}, \"sha256\": {\"layer0_weight\": \"00\"}}'";
  CaseReport r = RunCaseRepeated(c, Options(), 2);
  EXPECT_EQ(r.verdict.outcome, Outcome::kFlaky);
  EXPECT_EQ(r.repetitions, 2);
  ASSERT_GE(r.verdict.reasons.size(), 2u);
  EXPECT_EQ(r.verdict.reasons[0], "flaky: repetitions disagree (the first was FAIL)");
  EXPECT_THAT(r.verdict.reasons[1], HasSubstr("repetition 2 of 2: outcome: ok -> "));
}

TEST(RunCaseRepeatedTest, ASkippedCaseRunsOnce) {
  scenario::Case c = CpuCase("skipper");
  c.command = "echo '{\"skip\": \"no torch here\"}'";
  EXPECT_EQ(RunCaseRepeated(c, Options(), 4).repetitions, 1);
}

}  // namespace
}  // namespace harness::runner
