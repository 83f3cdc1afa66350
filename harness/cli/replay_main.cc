// replay: validates and replays scenario files, prints the matrix, writes
// reports. Exit status 0 only if every expectation holds.
//
//   replay scenarios/ --report-dir reports
//   replay scenarios/mismatched_index.yaml --filter load_then_to --list
//   replay scenarios --shard 2/4           # the second of four parts
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cuda_toolkit/cuda_toolkit_info.h"
#include "harness/base/files.h"
#include "harness/compat/torch_compat.h"
#include "harness/env/environment.h"
#include "harness/report/claims.h"
#include "harness/report/report.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/strategy/strategy.h"

using namespace harness;  // NOLINT: a main file

int main(int argc, char** argv) {
  CLI::App app{"Replays checkpoint-loading scenarios under simulated environments."};
  std::vector<std::string> paths;
  std::string filter, backend_name = "auto", report_dir, cache_dir = runner::DefaultCacheDir();
  bool list = false, validate = false, claims = false;
  app.add_option("paths", paths, "scenario files or folders")->default_val(std::vector<std::string>{"scenarios"});
  app.add_option("--filter", filter, "only cases whose id contains this");
  std::string shard_text = "1/1";
  app.add_option("--shard", shard_text, "K/N: run the K-th of N parts (stable per case id; as Bazel shards)");
  app.add_flag("--list", list, "list the cases, run nothing");
  app.add_flag("--validate", validate, "validate the files, run nothing");
  app.add_flag("--claims", claims, "audit the seed article's claims (scenarios/claims/ by default)");
  app.add_option("--backend", backend_name, "auto, virtual or real")->check(CLI::IsMember({"auto", "virtual", "real"}));
  app.add_option("--report-dir", report_dir, "write report.json, junit.xml, summary.md, report.html here");
  app.add_option("--cache-dir", cache_dir, "fixture cache");
  int jobs = 1;
  app.add_option("--jobs,-j", jobs, "cases run at once, each in its own workers")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  const Result<scenario::Shard> shard = scenario::ParseShard(shard_text);
  if (!shard.ok()) {
    std::cerr << "replay: " << shard.status().message() << "\n";
    return 2;
  }
  if (claims && app.count("paths") == 0) paths = {"scenarios/claims"};

  env::Backend backend = backend_name == "virtual" ? env::Backend::kVirtual
                         : backend_name == "real"  ? env::Backend::kReal
                                                   : env::DefaultBackend();
  env::HostFacts host = env::ProbeHost(argv[0]);
  std::ostringstream host_line;
  host_line << "harness: LibTorch " << compat::kTorchVersion << " (" << compat::kTorchSource
            << "), CUDA build: " << (compat::kTorchHasCuda ? "yes" : "no") << ", GPUs on host: " << host.physical_gpus
            << ", driver: " << (host.driver_present ? "yes" : "no") << ", CUDA Toolkit: "
            << (HARNESS_CUDA_TOOLKIT_FOUND ? std::to_string(HARNESS_CUDA_TOOLKIT_VERSION / 1000) + "." +
                                                 std::to_string(HARNESS_CUDA_TOOLKIT_VERSION % 1000 / 10)
                                           : std::string("none"))
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
  std::vector<runner::CaseReport> reports(cases.size());
  const bool tty = isatty(STDOUT_FILENO);
  // This process never touches LibTorch's state, so its threads only wait
  // on workers: each case still runs in forked processes of its own.
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex print;
  auto run_cases = [&] {
    for (size_t i = next++; i < cases.size(); i = next++) {
      reports[i] = runner::RunCase(cases[i], options);
      std::lock_guard<std::mutex> lock(print);
      size_t finished = ++done;
      if (tty) std::cout << "\r[" << finished << "/" << cases.size() << "] " << cases[i].id << "\033[K" << std::flush;
      const auto& r = reports[i];
      if (r.verdict.outcome != verdict::Outcome::kFail && r.verdict.outcome != verdict::Outcome::kXPass) continue;
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
  std::cout << report::Matrix(reports);
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
    Status s = report::WriteReports(reports, report_dir);
    if (!s.ok())
      std::cerr << s.ToString() << "\n";
    else
      std::cout << "reports: " << report_dir << "/{report.json,junit.xml,summary.md,report.html}\n";
  }
  std::cout << "replay: " << report::Summary(reports)
            << (invalid ? ", " + std::to_string(invalid) + " invalid file(s)" : "") << "\n";
  bool all_held = invalid == 0;
  for (const auto& r : reports) {
    all_held &= r.verdict.outcome != verdict::Outcome::kFail && r.verdict.outcome != verdict::Outcome::kXPass;
  }
  return all_held ? 0 : 1;
}
