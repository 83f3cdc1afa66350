// The article's claims, audited: groups cases by `claim.id` and says, per
// claim, whether the measurements support it.
//
//   holds             every measured cell matches the claim's prediction
//   partly holds      some cells match, others contradict it (xfail)
//   does not hold     every measured cell contradicts it
//   not measurable    nothing could be measured on this host (all SKIPPED)
//   changed           a cell FAILed or XPASSed: LibTorch no longer behaves
//                     as recorded; re-check the claim file
#ifndef HARNESS_REPORT_CLAIMS_H_
#define HARNESS_REPORT_CLAIMS_H_

#include <string>
#include <vector>

#include "harness/runner/runner.h"

namespace harness::report {

struct ClaimVerdict {
  std::string id;
  std::string text;
  std::string verdict;
  std::vector<std::string> evidence;  // one line per measured cell
};

std::vector<ClaimVerdict> AuditClaims(const std::vector<runner::CaseReport>& reports);
// A Markdown table of the verdicts with their evidence.
std::string ClaimsMarkdown(const std::vector<ClaimVerdict>& claims, const std::string& host_line);

}  // namespace harness::report

#endif  // HARNESS_REPORT_CLAIMS_H_
