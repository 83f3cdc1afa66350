// replay: validates and replays scenario files, prints the matrix, writes
// reports; merges reports of runs on other hardware; compares a run with a
// baseline. Exit status 0 only if every expectation held and nothing
// regressed; 2 for input it cannot use.
//
//   replay scenarios/ --report-dir reports
//   replay scenarios/mismatched_index.yaml --filter load_then_to --list
//   replay scenarios --shard 2/4                 # the second of four parts
//   replay scenarios --repeat 3                  # FLAKY where repetitions disagree
//   replay scenarios --baseline main-reports/    # what this change did, cell by cell
//   replay merge cpu/ gpu-1/ gpu-2/ --report-dir merged
//   replay diff main-merged/ merged/ --report-dir diff
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cuda_toolkit/cuda_toolkit_info.h"
#include "harness/base/bytes.h"
#include "harness/base/files.h"
#include "harness/base/subprocess.h"
#include "harness/compat/torch_compat.h"
#include "harness/env/environment.h"
#include "harness/env/virtual_runtime/virtual_runtime.h"
#include "harness/report/claims.h"
#include "harness/report/compare.h"
#include "harness/report/report.h"
#include "harness/report/results.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/strategy/strategy.h"

using namespace harness;  // NOLINT: a main file

namespace {

constexpr int kUnusableInput = 2;

// SIGINT or SIGTERM: stop the workers, then write what finished. The
// handler is reset after the first signal, so a second one ends the
// process at once.
volatile sig_atomic_t stop_signal = 0;

void StopOnSignal(int signal) {
  stop_signal = signal;
  CancelChildren();
}

void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = StopOnSignal;
  action.sa_flags = SA_RESETHAND | SA_RESTART;  // printing goes on; poll() still wakes
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

std::string CudaToolkitVersion() {
  if (!HARNESS_CUDA_TOOLKIT_FOUND) return "none";
  return std::to_string(HARNESS_CUDA_TOOLKIT_VERSION / 1000) + "." +
         std::to_string(HARNESS_CUDA_TOOLKIT_VERSION % 1000 / 10);
}

// The command as typed, words with spaces or quotes in single quotes.
std::string CommandLine(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    if (word.find_first_of(" \t'\"$\\") != std::string::npos || word.empty()) {
      std::string quoted = "'";
      for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      word = quoted + "'";
    }
    line += (i ? " " : "") + word;
  }
  return line;
}

std::string UtcNow() {
  const time_t now = time(nullptr);
  struct tm utc;
  gmtime_r(&now, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

report::RunInfo DescribeRun(const env::HostFacts& host, env::Backend backend, const std::string& label, int repeat,
                            int argc, char** argv) {
  report::RunInfo run;
  run.label = label;
  run.harness_version = report::kHarnessVersion;
  for (const char* variable : {"HARNESS_COMMIT", "GITHUB_SHA"}) {
    if (const char* value = std::getenv(variable); value && *value && run.commit.empty()) run.commit = value;
  }
  run.torch_version = compat::kTorchVersion;
  run.torch_source = compat::kTorchSource;
  run.torch_has_cuda = compat::kTorchHasCuda;
  run.backend = env::BackendName(backend);
  run.physical_gpus = host.physical_gpus;
  run.gpu_models = host.gpu_models;
  run.driver_version = host.driver_version;
  run.cuda_toolkit = CudaToolkitVersion();
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  run.hostname = hostname;
  run.date = UtcNow();
  run.command_line = CommandLine(argc, argv);
  run.repeat = repeat;
  return run;
}

// "4096", "1%": bytes moved that still count as the same. Plain decimal
// numbers only: no "nan", "inf", hexadecimal or exponents.
bool ParseBytesTolerance(const std::string& text, verdict::Tolerance* tolerance) {
  const bool percent = !text.empty() && text.back() == '%';
  const std::string number = percent ? text.substr(0, text.size() - 1) : text;
  if (number.empty() || number.find_first_not_of("0123456789.") != std::string::npos) return false;
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (*end != '\0' || !std::isfinite(value)) return false;
  if (percent) {
    if (value > 100) return false;
    tolerance->bytes_fraction = value / 100;
    return true;
  }
  if (value > 1e18) return false;
  tolerance->bytes = static_cast<int64_t>(value);
  return true;
}

// The comparison flags `replay --baseline` and `replay diff` share.
struct DiffFlags {
  std::string bytes_tolerance = "0";
  int64_t peak_rounding = 512;
  size_t markdown_limit = 1000 * 1000;

  void AddTo(CLI::App* app) {
    app->add_option("--bytes-tolerance", bytes_tolerance,
                    "bytes moved that still count as unchanged: a number of bytes, or a percentage (\"1%\")")
        ->capture_default_str();
    app->add_option("--peak-rounding", peak_rounding,
                    "the caching allocator's block rounding: peaks within this many bytes per copy are unchanged")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app->add_option("--markdown-limit", markdown_limit, "diff.md stops short of this many bytes")
        ->capture_default_str()
        ->check(CLI::Range(size_t{2000}, size_t{1} << 30));
  }
  bool Tolerance(verdict::Tolerance* tolerance) const {
    tolerance->peak_rounding = peak_rounding;
    if (ParseBytesTolerance(bytes_tolerance, tolerance)) return true;
    std::cerr << "replay: --bytes-tolerance '" << bytes_tolerance << "' is not a byte count or a percentage\n";
    return false;
  }
};

// Reads every path as runs (a run's report is one run, a merged one many).
bool ReadAll(const std::vector<std::string>& paths, std::vector<report::RunResults>* runs) {
  for (const auto& path : paths) {
    Result<std::vector<report::RunResults>> read = Status(ErrorClass::kInternal, "");
    try {
      read = report::ReadReports(path);
    } catch (const std::exception& e) {  // a reader bug must not abort a CI job without a word
      read = Status(ErrorClass::kInvalidArgument, path + ": cannot be read: " + e.what());
    }
    if (!read.ok()) {
      std::cerr << "replay: " << read.status().message() << "\n";
      return false;
    }
    for (auto& run : *read) runs->push_back(std::move(run));
  }
  return true;
}

// Prints the diff's verdict and regressions; writes its files into `dir`.
bool ReportDiff(const report::RunResults& baseline, const report::RunResults& current, const DiffFlags& flags,
                const verdict::Tolerance& tolerance, const std::string& dir) {
  const report::DiffResult diff = report::Diff(baseline, current, tolerance);
  for (const auto& note : diff.notes) std::cout << "baseline: note: " << note << "\n";
  std::cout << "baseline: " << (diff.Regressed() ? "REGRESSED" : "no regression") << ": ";
  for (auto kind : {report::CellChange::Kind::kNewlyFailing, report::CellChange::Kind::kFixed,
                    report::CellChange::Kind::kOutcome, report::CellChange::Kind::kMeasurement,
                    report::CellChange::Kind::kAdded, report::CellChange::Kind::kRemoved}) {
    std::cout << diff.Count(kind) << " " << report::CellChangeName(kind) << ", ";
  }
  std::cout << diff.unchanged << " unchanged\n";
  int shown = 0;
  for (const auto& change : diff.changes) {
    if (!change.regression || ++shown > 20) continue;
    std::cout << "  " << report::CellChangeName(change.kind) << ": " << change.id;
    for (const auto& d : change.differences) std::cout << "\n      " << d.ToString();
    std::cout << "\n";
  }
  if (!dir.empty()) {
    Status written = report::WriteDiffReports(baseline, current, diff, dir, {flags.markdown_limit});
    if (!written.ok()) {
      std::cerr << written.ToString() << "\n";
    } else {
      std::cout << "diff: " << dir << "/{diff.md,diff.json,diff.html}\n";
    }
  }
  return !diff.Regressed();
}

// Both sides as one run each, paired cell by cell. When either side holds
// more than one run (a merged report), cells pair by run title and case.
std::pair<report::RunResults, report::RunResults> Paired(const std::vector<report::RunResults>& before,
                                                         const std::vector<report::RunResults>& after) {
  const bool by_title = before.size() > 1 || after.size() > 1;
  return {report::Flatten(before, by_title), report::Flatten(after, by_title)};
}

// `keep_going`: a report that cannot be read is left out, named in the
// merged report's notes, and the exit status is 2 after writing the rest.
int Merge(const std::vector<std::string>& inputs, const std::string& dir, bool keep_going) {
  std::vector<report::RunResults> runs;
  std::vector<std::string> unreadable;
  for (const std::string& input : inputs) {
    const size_t before = runs.size();
    if (ReadAll({input}, &runs)) continue;
    runs.resize(before);
    if (!keep_going) return kUnusableInput;
    unreadable.push_back(input + ": cannot be read, left out of the merge (see the message above)");
  }
  if (runs.empty()) {
    std::cerr << "replay: merge: no report could be read\n";
    return kUnusableInput;
  }
  const std::vector<report::MergedCell> rows = report::Merge(runs);
  std::vector<const report::RunResults*> pointers;
  for (const auto& r : runs) pointers.push_back(&r);
  std::vector<std::string> notes = unreadable;
  for (auto& note : report::ComparabilityNotes(pointers)) notes.push_back(std::move(note));
  for (const auto& note : notes) std::cout << "merge: note: " << note << "\n";
  int differ = 0, fidelity = 0;
  for (const auto& row : rows) {
    differ += !row.differences.empty();
    fidelity += row.fidelity;
  }
  for (size_t k = 0; k < runs.size(); ++k) {
    std::cout << "[" << k + 1 << "] " << runs[k].run.Title() << ": " << report::Summary(runs[k].cases) << "\n";
  }
  Status written = report::WriteMergedReports(runs, dir, unreadable);
  if (!written.ok()) {
    std::cerr << written.ToString() << "\n";
    return kUnusableInput;
  }
  std::cout << "merge: " << runs.size() << " runs, " << rows.size() << " cells, " << differ << " differ between runs, "
            << fidelity << " compare virtual with real devices\n"
            << "reports: " << dir << "/{report.json,junit.xml,summary.md,report.html}\n";
  return unreadable.empty() ? 0 : kUnusableInput;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays checkpoint-loading scenarios under simulated environments."};
  std::vector<std::string> paths;
  std::string filter, backend_name = "auto", report_dir, cache_dir = runner::DefaultCacheDir(), label, baseline_path;
  bool list = false, validate = false, claims = false;
  int repeat = 1;
  DiffFlags diff_flags;
  app.add_option("paths", paths, "scenario files or folders")->default_val(std::vector<std::string>{"scenarios"});
  app.add_option("--filter", filter, "only cases whose id contains this");
  std::string shard_text = "1/1";
  app.add_option("--shard", shard_text, "K/N: run the K-th of N parts (stable per case id; as Bazel shards)");
  app.add_flag("--list", list, "list the cases, run nothing");
  app.add_flag("--validate", validate, "validate the files, run nothing");
  app.add_flag("--claims", claims, "audit the seed article's claims (scenarios/claims/ by default)");
  bool python_fork_server = true;
  app.add_option("--python-fork-server", python_fork_server,
                 "Python cells fork from one interpreter with torch imported (tools/strategies/fork_server.py); "
                 "false: a fresh interpreter per cell")
      ->default_val(true);
  app.add_option("--backend", backend_name, "auto, virtual or real")->check(CLI::IsMember({"auto", "virtual", "real"}));
  app.add_option("--report-dir", report_dir, "write report.json, junit.xml, summary.md, report.html here");
  app.add_option("--cache-dir", cache_dir, "fixture cache");
  app.add_option("--label", label, "this run's name in merged reports and diffs (e.g. the CI runner)");
  app.add_option("--repeat", repeat, "run each case N times; cases whose repetitions disagree are FLAKY")
      ->check(CLI::Range(1, 100));
  app.add_option("--baseline", baseline_path,
                 "a report.json (or its folder, or a merged one) to compare this run with; exit 1 on a regression");
  diff_flags.AddTo(&app);
  int jobs = 1;
  app.add_option("--jobs,-j", jobs, "cases run at once, each in its own workers")->check(CLI::Range(1, 64));
  std::string memory_limit_text = "auto";
  app.add_option("--worker-memory-limit", memory_limit_text,
                 "each worker's data cap, e.g. 8GiB (a loader past it fails as out-of-memory); "
                 "auto: 3/4 of the memory available at start, shared by --jobs; none")
      ->capture_default_str();

  std::vector<std::string> merge_inputs;
  std::string merge_dir = "merged";
  bool keep_going = false;
  CLI::App* merge = app.add_subcommand("merge", "merge the reports of runs into one, a column per run");
  merge->add_option("runs", merge_inputs, "report.json files or their folders (merged reports too)")->required();
  merge->add_option("--report-dir", merge_dir, "write the merged reports here")->capture_default_str();
  merge->add_flag("--keep-going", keep_going,
                  "leave out reports that cannot be read (named in the notes), merge the rest, then exit 2");

  std::string diff_baseline, diff_current, diff_dir;
  CLI::App* diff = app.add_subcommand("diff", "compare a run (or merged runs) with a baseline; exit 1 on a regression");
  diff->add_option("baseline", diff_baseline, "the baseline's report.json or folder")->required();
  diff->add_option("current", diff_current, "the current report.json or folder")->required();
  diff->add_option("--report-dir", diff_dir, "write diff.md, diff.json and diff.html here");
  diff_flags.AddTo(diff);  // the same flags, before or after `diff`
  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);

  if (*merge) return Merge(merge_inputs, merge_dir, keep_going);
  if (*diff) {
    verdict::Tolerance tolerance;
    if (!diff_flags.Tolerance(&tolerance)) return kUnusableInput;
    std::vector<report::RunResults> before, after;
    if (!ReadAll({diff_baseline}, &before) || !ReadAll({diff_current}, &after)) return kUnusableInput;
    const auto [baseline, current] = Paired(before, after);
    return ReportDiff(baseline, current, diff_flags, tolerance, diff_dir) ? 0 : 1;
  }

  const Result<scenario::Shard> shard = scenario::ParseShard(shard_text);
  if (!shard.ok()) {
    std::cerr << "replay: " << shard.status().message() << "\n";
    return kUnusableInput;
  }
  verdict::Tolerance tolerance;
  if (!diff_flags.Tolerance(&tolerance)) return kUnusableInput;
  // The baseline is read first: a bad path should not cost a whole replay.
  std::vector<report::RunResults> baseline;
  if (!baseline_path.empty() && !ReadAll({baseline_path}, &baseline)) return kUnusableInput;
  if (claims && app.count("paths") == 0) paths = {"scenarios/claims"};

  env::Backend backend = backend_name == "virtual" ? env::Backend::kVirtual
                         : backend_name == "real"  ? env::Backend::kReal
                                                   : env::DefaultBackend();
  env::HostFacts host = env::ProbeHost(argv[0]);
  // On a CUDA build, virtual devices in the harness's own processes come from
  // the virtual CUDA runtime under LibTorch's CUDA code; it has to be there
  // before that code first runs, so the replay runs itself again with it.
  env::RestorePreloadAfterReexec();
  if (backend == env::Backend::kVirtual && compat::kTorchHasCuda && !host.virtual_cuda_runtime_loaded &&
      !host.virtual_cuda_runtime.empty()) {
    const Status reexec = env::ReexecWithVirtualCudaRuntime(host.virtual_cuda_runtime, argv);
    std::cerr << "replay: " << reexec.message() << "; cells that need virtual devices in-process are skipped\n";
  }
  const report::RunInfo run_info = DescribeRun(host, backend, label, repeat, argc, argv);
  std::ostringstream host_line;
  host_line << "harness: LibTorch " << compat::kTorchVersion << " (" << compat::kTorchSource
            << "), CUDA build: " << (compat::kTorchHasCuda ? "yes" : "no") << ", GPUs on host: " << host.physical_gpus
            << ", driver: " << (host.driver_present ? "yes" : "no") << ", CUDA Toolkit: " << CudaToolkitVersion()
            << ", backend: " << env::BackendName(backend);
  std::cout << host_line.str() << "\n";

  std::vector<std::string> files = scenario::FindScenarioFiles(paths);
  std::vector<scenario::Case> cases;
  const std::vector<std::string> known_strategies = strategy::StrategyNames();
  int invalid = 0;
  for (const auto& f : files) {
    auto loaded = scenario::LoadScenarioFile(f, &known_strategies);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      ++invalid;
      continue;
    }
    for (auto& c : *loaded) {
      if ((filter.empty() || c.id.find(filter) != std::string::npos) && scenario::InShard(c.id, *shard)) {
        cases.push_back(std::move(c));
      }
    }
  }
  if (validate) {
    std::cout << files.size() - invalid << " file(s) valid, " << invalid << " invalid, " << cases.size()
              << " case(s)\n";
    return invalid == 0 ? 0 : 1;
  }
  if (list) {
    for (const auto& c : cases) std::cout << c.id << "\n";
    return invalid == 0 ? 0 : 1;
  }
  runner::RunOptions options{backend, host, cache_dir};
  if (memory_limit_text == "auto") {
    // Shared by the workers that run at once.
    options.worker_memory_bytes = runner::DefaultWorkerMemoryLimit(host) / jobs;
  } else if (memory_limit_text != "none") {
    const std::optional<int64_t> limit = ParseByteSize(memory_limit_text);
    if (!limit || *limit <= 0) {
      std::cerr << "replay: --worker-memory-limit '" << memory_limit_text << "' is not auto, none or a size (8GiB)\n";
      return kUnusableInput;
    }
    options.worker_memory_bytes = *limit;
  }
  // Python cells fork from an interpreter that has imported torch already.
  std::string fork_server_problem;
  const auto fork_servers =
      python_fork_server ? runner::StartPythonForkServers(cases, options, &fork_server_problem)
                         : std::vector<std::unique_ptr<strategy::PythonForkServer>>{};
  if (!fork_server_problem.empty()) {
    std::cerr << "replay: Python cells run as fresh processes: " << fork_server_problem << "\n";
  }
  std::vector<runner::CaseReport> reports(cases.size());
  // Cases that finished before any stop signal; a case running when it came
  // had its workers killed, and is left out rather than reported as lost.
  std::vector<char> finished(cases.size(), 0);
  InstallStopHandlers();
  const bool tty = isatty(STDOUT_FILENO);
  // This process never touches LibTorch's state, so its threads only wait
  // on workers: each case still runs in forked processes of its own.
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex print;
  auto run_cases = [&] {
    for (size_t i = next++; i < cases.size() && !ChildrenCancelled(); i = next++) {
      reports[i] = runner::RunCaseRepeated(cases[i], options, repeat);
      if (ChildrenCancelled()) break;
      finished[i] = 1;
      std::lock_guard<std::mutex> lock(print);
      size_t finished = ++done;
      if (tty) std::cout << "\r[" << finished << "/" << cases.size() << "] " << cases[i].id << "\033[K" << std::flush;
      const auto& r = reports[i];
      if (!verdict::IsFailing(r.verdict.outcome)) continue;
      if (tty) std::cout << "\n";
      std::cout << verdict::OutcomeName(r.verdict.outcome) << " " << r.c.id << "\n";
      for (const auto& reason : r.verdict.reasons) std::cout << "    " << reason << "\n";
      const ErrorClass got = r.measured.outcome.error_class();
      if ((got == ErrorClass::kCrashed || got == ErrorClass::kLost || got == ErrorClass::kInternal) &&
          !r.worker_output.empty()) {
        std::string tail = r.worker_output.substr(r.worker_output.size() > 600 ? r.worker_output.size() - 600 : 0);
        std::cout << "    worker output (last 600 bytes):\n" << tail << "\n";
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(run_cases);
  run_cases();
  for (std::thread& t : threads) t.join();
  if (tty) std::cout << "\n";
  std::vector<runner::CaseReport> done_reports;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (finished[i]) done_reports.push_back(std::move(reports[i]));
  }
  report::RunInfo info = run_info;
  if (stop_signal != 0) {
    info.note = "interrupted by SIG" + SignalName(stop_signal) + ": " + std::to_string(done_reports.size()) + " of " +
                std::to_string(cases.size()) + " cases finished; the others are not in this report";
    std::cout << "replay: " << info.note << "\n";
  }
  reports = std::move(done_reports);
  report::RunResults run = report::ToRunResults(reports, info);
  if (!report_dir.empty()) run.source = report_dir + "/report.json";
  std::cout << report::Matrix(run.cases);
  if (claims) {
    if (shard->count > 1) std::cout << "\nclaims: audited on shard " << shard_text << " only; merge shards first\n";
    std::vector<report::ClaimVerdict> audit = report::AuditClaims(reports);
    std::cout << "\nclaims:\n";
    for (const auto& c : audit) {
      std::cout << "  " << c.id << "  " << c.verdict << "\n      " << c.text << "\n";
      for (const auto& e : c.evidence) std::cout << "      - " << e << "\n";
    }
    if (!report_dir.empty()) {
      MakeDirectories(report_dir);
      std::ofstream(report_dir + "/claims.md") << report::ClaimsMarkdown(audit, host_line.str());
    }
  }
  if (!report_dir.empty()) {
    Status s = report::WriteRunReports(run, report_dir);
    if (!s.ok()) {
      std::cerr << s.ToString() << "\n";
    } else {
      std::cout << "reports: " << report_dir << "/{report.json,junit.xml,summary.md,report.html}\n";
    }
  }
  bool all_held = invalid == 0;
  for (const auto& r : run.cases) all_held &= !verdict::IsFailing(r.verdict);
  bool no_regression = true;
  if (!baseline.empty() && stop_signal != 0) {
    std::cout << "baseline: not compared: the run was interrupted\n";
  } else if (!baseline.empty()) {
    const auto [before, after] = Paired(baseline, {run});
    no_regression = ReportDiff(before, after, diff_flags, tolerance, report_dir);
  }
  std::cout << "replay: " << report::Summary(run.cases)
            << (invalid ? ", " + std::to_string(invalid) + " invalid file(s)" : "") << "\n";
  if (stop_signal != 0) return 128 + stop_signal;
  return all_held && no_regression ? 0 : 1;
}
