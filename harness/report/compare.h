// Relates runs: the same cell across a hardware matrix (Merge), and what a
// change to a loader did to every cell (Diff). Both compare cells by id
// with verdict::Compare, so "differs" means one thing everywhere.
//
//   std::vector<MergedCell> rows = Merge(runs);           // one column per run
//   DiffResult d = Diff(baseline, current, tolerance);     // d.Regressed()
#ifndef HARNESS_REPORT_COMPARE_H_
#define HARNESS_REPORT_COMPARE_H_

#include <string>
#include <vector>

#include "harness/report/results.h"
#include "harness/verdict/verdict.h"

namespace harness::report {

// What cannot be compared between runs, said before any cell: other
// harness versions, other LibTorch versions or builds, runs that share no
// cell. The comparison goes on with what can be.
std::vector<std::string> ComparabilityNotes(const std::vector<const RunResults*>& runs);

// One cell across runs. `by_run[k]` is null where run k has no such case.
struct MergedCell {
  std::string id, file, strategy, environment;
  std::vector<const CaseResult*> by_run;
  // "run 2 vs run 1: host_to_device: 0 -> 1048576 (+1.00 MiB)", one per
  // difference from the first run that measured the cell; verdicts too.
  std::vector<std::string> differences;
  // Measured on virtual devices in one run and on a host with real GPUs in
  // another: the differences (or their absence) speak to the virtual
  // backend's fidelity.
  bool fidelity = false;
};

// Every cell of every run, in the first run's order, then cells only later
// runs have. `runs` must outlive the result.
std::vector<MergedCell> Merge(const std::vector<RunResults>& runs);

// How one cell changed from the baseline to the current run.
struct CellChange {
  enum class Kind {
    kNewlyFailing,  // FAIL, XPASS or FLAKY now, not before (or a new cell that fails)
    kFixed,         // failing before, passing now
    kOutcome,       // another verdict or error class (PASS -> SKIPPED, ...)
    kMeasurement,   // the same verdict, other bytes or peaks
    kAdded,
    kRemoved,
  };
  Kind kind = Kind::kOutcome;
  std::string id, file;
  const CaseResult* before = nullptr;  // null when added
  const CaseResult* after = nullptr;   // null when removed
  std::vector<verdict::Difference> differences;
  // Newly failing; no longer measured (now SKIPPED, or removed); or more
  // bytes moved or a higher peak than before, whatever the verdict.
  bool regression = false;
};
std::string_view CellChangeName(CellChange::Kind kind);  // "newly failing", ...

struct DiffResult {
  std::vector<std::string> notes;  // ComparabilityNotes and reading warnings
  std::vector<CellChange> changes;  // regressions first, then by kind (CellChange::Kind order) and id
  int unchanged = 0;
  int Count(CellChange::Kind kind) const;
  bool Regressed() const;
};

// Runs as one, to diff merged reports: each case's id becomes
// "<run title>: <id>", so cells pair up by run and case; run facts are the
// first run's, with the titles joined into the label. One run stays as it
// is unless `prefix_titles` (to pair a single run with a merged report's
// run of the same title). A title that repeats is numbered, with a warning.
RunResults Flatten(const std::vector<RunResults>& runs, bool prefix_titles = false);

// `baseline` and `current` must outlive the result. Skipped cells (either
// side) compare by verdict only.
DiffResult Diff(const RunResults& baseline, const RunResults& current, const verdict::Tolerance& tolerance = {});

}  // namespace harness::report

#endif  // HARNESS_REPORT_COMPARE_H_
