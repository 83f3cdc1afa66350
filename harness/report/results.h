// What a run wrote in report.json, as plain data that can be read back:
// the run's own facts (the heading of its column when runs are merged) and
// every case with its verdict and measurement. No LibTorch: merging and
// diffing reports needs none.
//
//   Result<RunResults> run = ReadRunResults("reports/");    // or .../report.json
//   for (const CaseResult& c : run->cases) ...              // run->warnings: what was odd
#ifndef HARNESS_REPORT_RESULTS_H_
#define HARNESS_REPORT_RESULTS_H_

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/status.h"
#include "harness/verdict/verdict.h"

namespace harness::report {

// report.json's layout. 1: {"summary", "cases"} (before 2026-12), without
// the run's facts; 2: adds {"format", "run"}. Readers take both.
inline constexpr int kReportFormat = 2;

// The version of the harness that wrote a report; reports of other
// versions are compared with a warning.
inline constexpr const char kHarnessVersion[] = "0.9.0";

// The facts of one run: which hardware, LibTorch and harness it measured.
struct RunInfo {
  int format = kReportFormat;
  std::string label;            // the run's column heading (`replay --label`)
  std::string harness_version;  // kHarnessVersion of the writer
  std::string commit;           // $HARNESS_COMMIT, $GITHUB_SHA, or "" when unknown
  std::string torch_version;    // "2.11.0"
  std::string torch_source;     // "pypi-wheel", "debian"
  bool torch_has_cuda = false;
  std::string backend;  // "virtual" or "real"
  int physical_gpus = 0;
  std::vector<std::string> gpu_models;  // "NVIDIA H100 80GB HBM3"
  std::string driver_version;           // "580.159.04"; "" without a driver
  std::string cuda_toolkit;             // "13.0"; "none"
  std::string hostname;
  std::string date;          // UTC, ISO 8601
  std::string command_line;  // as typed
  int repeat = 1;            // replay --repeat
  std::string note;          // how the report was made, when not by replay

  // "virtual, LibTorch 1.13.1, 0 GPUs" and the like, when `label` is empty.
  std::string Title() const;
};

// One case as report.json holds it.
struct CaseResult {
  std::string id;  // "<file stem>/<strategy>@<environment>": the key across runs
  std::string file, strategy, environment, target, fixture;
  std::string hardware_part;     // scenario::HardwarePart
  std::string expected_outcome;  // an error class name
  verdict::Outcome verdict = verdict::Outcome::kFail;
  std::vector<std::string> reasons;
  std::string skip_reason;
  std::optional<verdict::Measured> measured;  // absent when SKIPPED
  std::string command_output, worker_output;
  double wall_seconds = 0;
  int repetitions = 1;
};

struct RunResults {
  RunInfo run;
  std::vector<CaseResult> cases;
  std::string source;                 // the path it was read from
  std::vector<std::string> warnings;  // entries left out, an old format
};

void to_json(nlohmann::json& j, const RunInfo& r);
void from_json(const nlohmann::json& j, RunInfo& r);
void to_json(nlohmann::json& j, const CaseResult& r);
void from_json(const nlohmann::json& j, CaseResult& r);

// report.json as one JSON document (format 2).
std::string ReportJson(const RunResults& run);

// A report.json document already parsed; `source` names it in messages.
// The second form is for a run inside a merged report, whose format is the
// merged document's.
Result<RunResults> RunResultsFromJson(const nlohmann::json& j, const std::string& source);
Result<RunResults> RunResultsFromJson(const nlohmann::json& j, const std::string& source, int format);

// Reads `path`: a report.json, or a folder holding one. A file that is
// missing, truncated, no JSON or no report is an error naming the path and
// what is wrong (kIoError, kInvalidArgument). A case entry that cannot be
// read (a hand edit) is left out with a warning naming its index and field;
// a report of an older format or another harness version is read with a
// warning. Reports are limited to 256 MiB.
Result<RunResults> ReadRunResults(const std::string& path);

// Reads a run's report as one run, or what `replay merge` wrote as its runs
// (report.json with "merged": true). Errors and warnings as ReadRunResults.
Result<std::vector<RunResults>> ReadReports(const std::string& path);

// "N passed, N failed, N skipped" (XFAIL counts as passed; XPASS and FLAKY
// as failed).
std::string Summary(const std::vector<CaseResult>& cases);

// The case's facts as (name, value) pairs, in this order: strategy,
// environment, hardware_part, verdict, then unless SKIPPED the outcome
// class, "<direction>_bytes" per direction and "peak_<device>" per device
// (or "ledger_unavailable" with the reason). The per-case properties of
// junit.xml and of checkpoint_scenario_test's XML.
std::vector<std::pair<std::string, std::string>> CaseProperties(const CaseResult& r);

}  // namespace harness::report

#endif  // HARNESS_REPORT_RESULTS_H_
