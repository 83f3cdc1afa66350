#include "harness/verdict/verdict.h"

#include <gtest/gtest.h>

namespace harness::verdict {
namespace {

Measured OkLoad() {
  Measured m;
  m.target = "cpu";
  m.placement = {{"w", "cpu"}};
  m.integrity = OkStatus();
  m.transfer_bytes = {{"host_to_device", 1000}, {"device_to_host", 1000}};
  m.checkpoint_bytes = 1000;
  m.has_ledger = true;
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
  e.transfers["host_to_device"] = *ByteBound::Parse("1.0x");
  EXPECT_EQ(Judge(e, OkLoad()).outcome, Outcome::kPass);
}

TEST(Judge, TransferOverBoundFailsWithTheNumbers) {
  Expectation e;
  e.transfers["host_to_device"] = *ByteBound::Parse("0");
  Verdict v = Judge(e, OkLoad());
  EXPECT_EQ(v.outcome, Outcome::kFail);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "transfers.host_to_device: expected 0, measured 1000 B (checkpoint 1000 B)");
}

TEST(Judge, BoundsWithoutALedgerFailAsNotMeasured) {
  Expectation e;
  e.transfers["host_to_device"] = *ByteBound::Parse("0");
  Measured m = OkLoad();
  m.has_ledger = false;
  Verdict v = Judge(e, m);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_EQ(v.reasons[0], "transfers/peak: not measured for this strategy (no ledger)");
}

TEST(Judge, NoLedgerSaysWhy) {
  Expectation e;
  e.peak["cuda:0"] = *ByteBound::Parse("~1.0x");
  Measured m = OkLoad();
  m.has_ledger = false;
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
  m.unmeasured = {"memory.cpu"};
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

}  // namespace
}  // namespace harness::verdict
