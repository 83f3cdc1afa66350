#include "harness/report/claims.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "harness/base/bytes.h"

namespace harness::report {
namespace {

using verdict::Outcome;

std::string Evidence(const runner::CaseReport& r) {
  std::ostringstream s;
  s << r.c.strategy << "@" << r.c.environment.name << ": " << verdict::OutcomeName(r.verdict.outcome);
  if (r.verdict.outcome == Outcome::kSkipped) {
    s << " (" << r.skip_reason << ")";
    return s.str();
  }
  s << ", " << ErrorClassName(r.measured.outcome.error_class());
  if (r.measured.outcome.ok() && r.measured.ledger) {
    for (recorder::Direction d : {recorder::Direction::kHostToDevice, recorder::Direction::kDeviceToHost,
                                  recorder::Direction::kDeviceToDevice}) {
      const int64_t bytes = r.measured.TransferBytes(d);
      if (bytes > 0) s << ", " << recorder::DirectionName(d) << " " << HumanBytes(bytes);
    }
    for (const auto& [device, memory] : r.measured.ledger->memory) {
      if (memory.peak_bytes > 0) s << ", peak " << device << " " << HumanBytes(memory.peak_bytes);
    }
    char wall[32];
    std::snprintf(wall, sizeof(wall), "%.1f ms", r.wall_seconds * 1000);
    s << ", worker " << wall;
  }
  if (r.verdict.outcome == Outcome::kXFail && r.c.expect.xfail) s << " [contradicts: " << *r.c.expect.xfail << "]";
  if (verdict::IsFailing(r.verdict.outcome)) {
    for (const auto& reason : r.verdict.reasons) s << " [" << reason << "]";
  }
  return s.str();
}

}  // namespace

std::vector<ClaimVerdict> AuditClaims(const std::vector<runner::CaseReport>& reports) {
  std::vector<ClaimVerdict> claims;
  std::map<std::string, size_t> index;
  std::map<std::string, std::map<Outcome, int>> counts;
  for (const auto& r : reports) {
    if (r.c.claim_id.empty()) continue;
    if (!index.count(r.c.claim_id)) {
      index[r.c.claim_id] = claims.size();
      claims.push_back({r.c.claim_id, r.c.claim_text, "", {}});
    }
    claims[index[r.c.claim_id]].evidence.push_back(Evidence(r));
    counts[r.c.claim_id][r.verdict.outcome]++;
  }
  for (ClaimVerdict& c : claims) {
    auto& n = counts[c.id];
    if (n[Outcome::kFail] + n[Outcome::kXPass] + n[Outcome::kFlaky] > 0)
      c.verdict = "changed (re-check)";
    else if (n[Outcome::kPass] + n[Outcome::kXFail] == 0)
      c.verdict = "not measurable on this host";
    else if (n[Outcome::kXFail] == 0)
      c.verdict = "holds";
    else if (n[Outcome::kPass] == 0)
      c.verdict = "does not hold";
    else
      c.verdict = "partly holds";
  }
  return claims;
}

std::string ClaimsMarkdown(const std::vector<ClaimVerdict>& claims, const std::string& host_line) {
  std::ostringstream s;
  s << "# The seed article's claims, measured\n\n" << host_line << "\n\n| claim | verdict |\n|---|---|\n";
  for (const auto& c : claims) s << "| " << c.id << ": " << c.text << " | **" << c.verdict << "** |\n";
  s << "\n";
  for (const auto& c : claims) {
    s << "## " << c.id << ": " << c.verdict << "\n\n> " << c.text << "\n\n";
    for (const auto& e : c.evidence) s << "- " << e << "\n";
    s << "\n";
  }
  return s.str();
}

}  // namespace harness::report
