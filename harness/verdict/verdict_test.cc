#include "harness/verdict/verdict.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace harness::verdict {
namespace {

using recorder::Direction;

Measured OkLoad() {
  Measured m;
  m.target = "cpu";
  m.placement = {{"w", "cpu"}};
  m.integrity = OkStatus();
  m.checkpoint_bytes = 1000;
  m.ledger.emplace();
  m.ledger->copies.Add(-1, 0, 1000);
  m.ledger->copies.Add(0, -1, 1000);
  return m;
}

TEST(ByteBound, ParsesAbsoluteRelativeAndComparisons) {
  EXPECT_TRUE(ByteBound::Parse("0")->Holds(0, 10));
  EXPECT_FALSE(ByteBound::Parse("0")->Holds(1, 10));
  EXPECT_TRUE(ByteBound::Parse("1.0x")->Holds(10, 10));
  EXPECT_TRUE(ByteBound::Parse(">=2x")->Holds(25, 10));
  EXPECT_FALSE(ByteBound::Parse("<=0.5x")->Holds(6, 10));
  // A real GPU's caching allocator rounds each block up to 512 bytes.
  EXPECT_TRUE(ByteBound::Parse("~1.0x")->Holds(1051648, 1048564));
  EXPECT_FALSE(ByteBound::Parse("1.0x")->Holds(1051648, 1048564));
  EXPECT_FALSE(ByteBound::Parse("~1.0x")->Holds(2 * 1048564, 1048564));
  EXPECT_FALSE(ByteBound::Parse("lots").has_value());
  EXPECT_FALSE(ByteBound::Parse("-1").has_value());
}

TEST(Judge, MatchingOutcomeAndBoundsPass) {
  Expectation e;
  e.transfers[Direction::kHostToDevice] = *ByteBound::Parse("1.0x");
  EXPECT_EQ(Judge(e, OkLoad()).outcome, Outcome::kPass);
}

TEST(Judge, TransferOverBoundFailsWithTheNumbers) {
  Expectation e;
  e.transfers[Direction::kHostToDevice] = *ByteBound::Parse("0");
  Verdict v = Judge(e, OkLoad());
  EXPECT_EQ(v.outcome, Outcome::kFail);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "transfers.host_to_device: expected 0, measured 1000 B (checkpoint 1000 B)");
}

TEST(Judge, BoundsWithoutALedgerFailAsNotMeasured) {
  Expectation e;
  e.transfers[Direction::kHostToDevice] = *ByteBound::Parse("0");
  Measured m = OkLoad();
  m.ledger.reset();
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_EQ(v.reasons[0], "transfers/peak: not measured for this strategy (no ledger)");
}

TEST(Judge, NoLedgerSaysWhy) {
  Expectation e;
  e.peak["cuda:0"] = *ByteBound::Parse("~1.0x");
  Measured m = OkLoad();
  m.ledger.reset();
  m.ledger_unavailable = "CUPTI injection: process 7 (/usr/bin/python3) ended without reporting";
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.reasons.at(0),
            "transfers/peak: not measured for this strategy (no ledger: CUPTI injection: process 7 "
            "(/usr/bin/python3) ended without reporting)");
}

TEST(Judge, PeakOnAnUnmeasuredDeviceIsNotJudgedAgainstZero) {
  Expectation e;
  e.peak["cpu"] = *ByteBound::Parse("0");
  e.peak["cuda:0"] = *ByteBound::Parse("0");
  Measured m = OkLoad();
  m.ledger->unmeasured = {"memory.cpu"};
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "peak.cpu: not measured by this ledger's sources");
}

TEST(Judge, WrongErrorClassFails) {
  Expectation e;
  e.outcome = ErrorClass::kInvalidDeviceOrdinal;
  Measured m = OkLoad();
  m.outcome = Status(ErrorClass::kCudaUnavailable, "No CUDA GPUs are available");
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_NE(v.reasons[0].find("expected invalid-device-ordinal, got cuda-unavailable"), std::string::npos);
}

TEST(Judge, XfailThatPassesIsXpass) {
  Expectation e;
  e.xfail = "known bug";
  EXPECT_EQ(Judge(e, OkLoad()).outcome, Outcome::kXPass);
  Measured bad = OkLoad();
  bad.placement["w"] = "cuda:0";
  EXPECT_EQ(Judge(e, bad).outcome, Outcome::kXFail);
}

TEST(Judge, APeakBoundCanFail) {
  Expectation e;
  e.peak["cuda:0"] = *ByteBound::Parse("~1.0x");
  Measured m = OkLoad();
  m.ledger->memory["cuda:0"].peak_bytes = 200000;
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_EQ(v.reasons.at(0), "peak.cuda:0: expected ~1.0x, measured 200000 B");
  m.ledger->memory["cuda:0"].peak_bytes = 1000;
  EXPECT_EQ(Judge(e, m).outcome, Outcome::kPass);
}

TEST(Outcome, NamesRoundTripAndFlakyFails) {
  for (Outcome o : {Outcome::kPass, Outcome::kFail, Outcome::kXFail, Outcome::kXPass, Outcome::kSkipped,
                    Outcome::kFlaky}) {
    EXPECT_EQ(OutcomeFromName(OutcomeName(o)), o);
  }
  EXPECT_FALSE(OutcomeFromName("PASSED").has_value());
  EXPECT_TRUE(IsFailing(Outcome::kFlaky));
  EXPECT_TRUE(IsFailing(Outcome::kXPass));
  EXPECT_FALSE(IsFailing(Outcome::kXFail));
  EXPECT_FALSE(IsFailing(Outcome::kSkipped));
}

TEST(Compare, TheSameMeasurementHasNoDifferences) { EXPECT_TRUE(Compare(OkLoad(), OkLoad()).empty()); }

TEST(Compare, BytesAreExactUnlessAToleranceIsGiven) {
  Measured more = OkLoad();
  more.ledger->copies.Add(-1, 0, 24);  // h2d 1000 -> 1024
  std::vector<Difference> d = Compare(OkLoad(), more);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, Difference::Kind::kBytes);
  EXPECT_EQ(d[0].field, "host_to_device");
  EXPECT_EQ(d[0].delta, 24);
  EXPECT_EQ(d[0].ToString(), "host_to_device: 1000 -> 1024 (+24 bytes)");
  EXPECT_TRUE(Compare(OkLoad(), more, {.bytes = 24}).empty());
  EXPECT_FALSE(Compare(OkLoad(), more, {.bytes = 23}).empty());
  EXPECT_TRUE(Compare(OkLoad(), more, {.bytes_fraction = 0.03}).empty());
}

TEST(Compare, PeaksWithinTheAllocatorsRoundingPerCopyAreTheSame) {
  Measured a = OkLoad(), b = OkLoad();  // two copies each
  a.ledger->memory["cuda:0"].peak_bytes = 1000;
  b.ledger->memory["cuda:0"].peak_bytes = 1000 + 2 * 512;
  EXPECT_TRUE(Compare(a, b).empty());
  b.ledger->memory["cuda:0"].peak_bytes = 1000 + 2 * 512 + 1;
  std::vector<Difference> d = Compare(a, b);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].field, "peak cuda:0");
  EXPECT_EQ(d[0].delta, 1025);
}

TEST(Compare, AnUnmeasuredPeakIsNotADifference) {
  Measured a = OkLoad(), b = OkLoad();
  a.ledger->memory["cpu"].peak_bytes = 0;
  a.ledger->unmeasured = {"memory.cpu"};
  b.ledger->memory["cpu"].peak_bytes = 1 << 20;
  EXPECT_TRUE(Compare(a, b).empty());
}

TEST(Compare, TheOutcomeComesFirstAndAFailedLoadsLedgerIsIncidental) {
  Measured failed;
  failed.outcome = Status(ErrorClass::kCudaUnavailable, "no GPU");
  failed.ledger_unavailable = "nothing loaded";
  std::vector<Difference> d = Compare(OkLoad(), failed);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(), "outcome: ok -> cuda-unavailable");
  Measured failed_with_ledger = failed;
  failed_with_ledger.ledger = recorder::Ledger{};
  EXPECT_TRUE(Compare(failed, failed_with_ledger).empty());
}

TEST(Compare, ASuccessfulLoadThatLostItsLedgerDiffers) {
  Measured unledgered = OkLoad();
  unledgered.ledger.reset();
  std::vector<Difference> d = Compare(OkLoad(), unledgered);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(), "ledger: recorded -> none");
}

TEST(MeasuredJson, RoundTripsWithAndWithoutALedger) {
  Measured m = OkLoad();
  m.outcome = Status(ErrorClass::kOutOfMemory, "CUDA out of memory");
  m.ledger_unavailable = "";
  const nlohmann::json j = m;
  EXPECT_EQ(nlohmann::json(j.get<Measured>()), j);
  EXPECT_EQ(j.get<Measured>().TransferBytes(Direction::kHostToDevice), 1000);
  m.ledger.reset();
  m.integrity.reset();
  m.ledger_unavailable = "no trace";
  const nlohmann::json k = m;
  EXPECT_FALSE(k.contains("ledger"));
  EXPECT_FALSE(k.get<Measured>().ledger.has_value());
  EXPECT_EQ(k.get<Measured>().ledger_unavailable, "no trace");
}

}  // namespace
}  // namespace harness::verdict
