// Writes what a replay measured. Nothing measured is dropped: the JSON report
// holds every case with its raw error message and ledger.
//
//   WriteReports(reports, "reports/");  // report.json junit.xml summary.md report.html
//   std::cout << Matrix(reports);        // strategy x environment, per file
#ifndef HARNESS_REPORT_REPORT_H_
#define HARNESS_REPORT_REPORT_H_

#include <string>
#include <vector>

#include "harness/base/status.h"
#include "harness/runner/runner.h"

namespace harness::report {

Status WriteReports(const std::vector<runner::CaseReport>& reports, const std::string& dir);

// One table per scenario file: rows strategies, columns environments; each
// cell "PASS ok h2d=256K d2h=256K" and the like.
std::string Matrix(const std::vector<runner::CaseReport>& reports);

// "N passed, N failed, N skipped" plus xfail/xpass counts.
std::string Summary(const std::vector<runner::CaseReport>& reports);

}  // namespace harness::report

#endif  // HARNESS_REPORT_REPORT_H_
