// Writes what replays measured, for one run, for runs merged across a
// hardware matrix, and for a run against a baseline. Nothing measured is
// dropped: report.json holds every case with its raw error message and
// ledger, and reads back (results.h).
//
//   RunResults run = ToRunResults(reports, info);
//   WriteRunReports(run, "reports/");           // report.json junit.xml summary.md report.html
//   WriteMergedReports(runs, "merged/");         // the same four, one column per run
//   DiffResult d = Diff(baseline, run);
//   WriteDiffReports(baseline, run, d, "reports/", {});  // diff.md diff.json diff.html
//   std::cout << Matrix(run.cases);              // strategy x environment, per file
#ifndef HARNESS_REPORT_REPORT_H_
#define HARNESS_REPORT_REPORT_H_

#include <string>
#include <vector>

#include "harness/base/status.h"
#include "harness/report/compare.h"
#include "harness/report/results.h"
#include "harness/runner/runner.h"

namespace harness::report {

// The report entry of a case the runner ran.
CaseResult ToResult(const runner::CaseReport& r);
RunResults ToRunResults(const std::vector<runner::CaseReport>& reports, const RunInfo& run);

Status WriteRunReports(const RunResults& run, const std::string& dir);

// report.json {"format", "merged": true, "runs": [{"run", "cases"}...],
// "cells": [{"id", "differences", "fidelity"}...]}, and junit.xml with one
// <testsuite> per run, summary.md and report.html with one column per run.
// `unreadable` names inputs left out; they head the notes.
Status WriteMergedReports(const std::vector<RunResults>& runs, const std::string& dir,
                          const std::vector<std::string>& unreadable = {});

struct DiffOptions {
  // $GITHUB_STEP_SUMMARY refuses more than 1 MiB; the Markdown stops short
  // of this and says how many changes it left out.
  size_t markdown_limit = 1000 * 1000;
};

// The diff as Markdown sized for a pull-request comment or a job summary:
// a verdict line, what cannot be compared, then changes by kind with their
// differences.
std::string DiffMarkdown(const RunResults& baseline, const RunResults& current, const DiffResult& diff,
                         const DiffOptions& options = {});

// diff.md, diff.json, and diff.html: the page with the baseline beside the
// current run, the changes at the top. Beside a run's own reports in one
// folder, nothing is overwritten.
Status WriteDiffReports(const RunResults& baseline, const RunResults& current, const DiffResult& diff,
                        const std::string& dir, const DiffOptions& options = {});

// One table per scenario file: rows strategies, columns environments; each
// cell "PASS ok h2d=256K d2h=256K" and the like.
std::string Matrix(const std::vector<CaseResult>& cases);

}  // namespace harness::report

#endif  // HARNESS_REPORT_REPORT_H_
