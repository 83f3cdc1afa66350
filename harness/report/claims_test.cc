#include "harness/report/claims.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using verdict::Outcome;

runner::CaseReport Cell(const std::string& claim, const std::string& strategy, Outcome outcome) {
  runner::CaseReport r;
  r.c.claim_id = claim;
  r.c.claim_text = "text of " + claim;
  r.c.strategy = strategy;
  r.c.environment.name = "single-gpu";
  r.verdict.outcome = outcome;
  return r;
}

// One claim per verdict; the audit's whole rule in one table.
TEST(AuditClaimsTest, EachMixOfCellsGetsItsVerdict) {
  std::vector<runner::CaseReport> reports = {
      Cell("C1", "a", Outcome::kPass),       Cell("C1", "b", Outcome::kPass),  Cell("C2", "a", Outcome::kPass),
      Cell("C2", "b", Outcome::kXFail),      Cell("C3", "a", Outcome::kXFail), Cell("C3", "b", Outcome::kSkipped),
      Cell("C4", "a", Outcome::kSkipped),    Cell("C5", "a", Outcome::kPass),  Cell("C5", "b", Outcome::kXPass),
      Cell("", "unclaimed", Outcome::kFail),
  };
  reports[2].c.expect.xfail = "measured otherwise";
  reports[3].c.expect.xfail = "measured otherwise";
  std::vector<ClaimVerdict> audit = AuditClaims(reports);
  std::vector<std::string> verdicts;
  for (const ClaimVerdict& c : audit) verdicts.push_back(c.id + " " + c.verdict);
  EXPECT_THAT(verdicts, ElementsAre("C1 holds", "C2 partly holds", "C3 does not hold", "C4 not measurable on this host",
                                    "C5 changed (re-check)"));
  EXPECT_EQ(audit[0].evidence.size(), 2u);
  EXPECT_THAT(audit[1].evidence[1], HasSubstr("[contradicts: measured otherwise]"));
}

TEST(AuditClaimsTest, EvidenceNamesBytesMovedAndSkipReasons) {
  runner::CaseReport moved = Cell("C1", "load_then_to", Outcome::kPass);
  moved.measured.ledger.emplace();
  moved.measured.ledger->copies.Add(-1, 0, 2048);
  moved.measured.ledger->memory["cuda:0"].peak_bytes = 4096;
  runner::CaseReport skipped = Cell("C1", "map_location", Outcome::kSkipped);
  skipped.skip_reason = "needs 1 GPU(s), host has 0";
  std::vector<ClaimVerdict> audit = AuditClaims({moved, skipped});
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_THAT(audit[0].evidence[0], HasSubstr("host_to_device 2.00 KiB, peak cuda:0 4.00 KiB"));
  EXPECT_EQ(audit[0].evidence[1], "map_location@single-gpu: SKIPPED (needs 1 GPU(s), host has 0)");
  const std::string md = ClaimsMarkdown(audit, "host line");
  EXPECT_THAT(md, HasSubstr("| C1: text of C1 | **holds** |"));
  EXPECT_THAT(md, HasSubstr("host line"));
}

}  // namespace
}  // namespace harness::report
