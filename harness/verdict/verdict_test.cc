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
