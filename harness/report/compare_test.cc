// Reading reports back, merging runs and diffing against a baseline, on the
// committed runs in testdata/: a CPU-only runner with virtual GPUs (LibTorch
// 1.13.1), the CUDA leg on the same CPU-only host (LibTorch 2.11.0), and
// the H100 evidence of 2026-11-22. Regressions and flaky cells are injected
// into copies, so each check is seen to fail when its fault is there.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/report/compare.h"
#include "harness/report/results.h"

namespace harness::report {
namespace {

using ::testing::HasSubstr;
using verdict::Outcome;

const char kCpu[] = "harness/report/testdata/cpu_virtual.report.json";
const char kCuda[] = "harness/report/testdata/cuda_leg.report.json";
const char kH100[] = "harness/report/testdata/h100_2026-11-22.report.json";

RunResults Read(const std::string& path) {
  Result<RunResults> r = ReadRunResults(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RunResults{};
}

std::string TempFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CaseResult* Find(RunResults& run, const std::string& id) {
  for (CaseResult& c : run.cases) {
    if (c.id == id) return &c;
  }
  ADD_FAILURE() << "no case " << id;
  return nullptr;
}

const CellChange* FindChange(const DiffResult& d, const std::string& id) {
  for (const CellChange& c : d.changes) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

TEST(ReadRunResults, ReadsEachCommittedRunWithItsFacts) {
  const RunResults cpu = Read(kCpu), cuda = Read(kCuda), h100 = Read(kH100);
  EXPECT_GT(cpu.cases.size(), 100u);
  EXPECT_EQ(cpu.run.backend, "virtual");
  EXPECT_EQ(cpu.run.torch_version, "1.13.1");
  EXPECT_EQ(cuda.run.torch_version, "2.11.0");
  EXPECT_TRUE(cuda.run.torch_has_cuda);
  EXPECT_EQ(h100.run.gpu_models, std::vector<std::string>{"NVIDIA H100 80GB HBM3"});
  EXPECT_EQ(h100.run.driver_version, "580.159.04");
  for (const RunResults* r : {&cpu, &cuda}) EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
}

TEST(Diff, ARunAgainstItselfChangesNothing) {
  const RunResults cpu = Read(kCpu);
  const DiffResult d = Diff(cpu, cpu);
  EXPECT_TRUE(d.changes.empty());
  EXPECT_EQ(d.unchanged, static_cast<int>(cpu.cases.size()));
  EXPECT_FALSE(d.Regressed());
  EXPECT_TRUE(d.notes.empty());
}

TEST(Diff, AnInjectedRegressionIsCaughtCellByCell) {
  const RunResults baseline = Read(kCpu);
  RunResults current = baseline;
  // More bytes moved host to device: a loader change that copies twice.
  const std::string copies_twice = "c4_source_device_memory/load_then_to@single-gpu";
  Find(current, copies_twice)->measured->ledger->copies.Add(-1, 0, 1 << 20);
  // A cell that passed now fails, one is flaky, one got cheaper.
  const std::string fails = "missing_gpu/map_location@missing-gpu";
  Find(current, fails)->verdict = Outcome::kFail;
  Find(current, fails)->reasons = {"outcome: expected ok, got cuda-unavailable"};
  Find(current, "missing_gpu/cpu_then_to@missing-gpu")->verdict = Outcome::kFlaky;
  const std::string cheaper = "c2_extra_gpu_transfers/load_then_to@dual-gpu";
  Find(current, cheaper)->measured->ledger->copies[recorder::Direction::kDeviceToDevice].bytes = 0;
  // One cell gone, one new.
  current.cases.erase(current.cases.begin());
  CaseResult added = current.cases.back();
  added.id += "-new";
  current.cases.push_back(added);

  const DiffResult d = Diff(baseline, current);
  EXPECT_TRUE(d.Regressed());
  const CellChange* more = FindChange(d, copies_twice);
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->kind, CellChange::Kind::kMeasurement);
  EXPECT_TRUE(more->regression);
  ASSERT_EQ(more->differences.size(), 1u);
  EXPECT_EQ(more->differences[0].field, "host_to_device");
  EXPECT_EQ(more->differences[0].delta, 1 << 20);
  ASSERT_NE(FindChange(d, fails), nullptr);
  EXPECT_EQ(FindChange(d, fails)->kind, CellChange::Kind::kNewlyFailing);
  ASSERT_NE(FindChange(d, "missing_gpu/cpu_then_to@missing-gpu"), nullptr);
  EXPECT_EQ(FindChange(d, "missing_gpu/cpu_then_to@missing-gpu")->kind, CellChange::Kind::kNewlyFailing);
  const CellChange* less = FindChange(d, cheaper);
  ASSERT_NE(less, nullptr);
  EXPECT_EQ(less->kind, CellChange::Kind::kMeasurement);
  EXPECT_FALSE(less->regression);  // cheaper is news, not a regression
  EXPECT_EQ(d.Count(CellChange::Kind::kRemoved), 1);
  EXPECT_EQ(d.Count(CellChange::Kind::kAdded), 1);
  EXPECT_EQ(d.Count(CellChange::Kind::kNewlyFailing), 2);
  EXPECT_EQ(d.unchanged, static_cast<int>(baseline.cases.size()) - 5);
  // Regressions come first, newly failing before the rest.
  EXPECT_EQ(d.changes[0].kind, CellChange::Kind::kNewlyFailing);
  for (size_t i = 1; i < d.changes.size(); ++i) EXPECT_LE(d.changes[i].regression, d.changes[i - 1].regression);
}

TEST(Diff, ACellNoLongerMeasuredIsLostCoverage) {
  const RunResults baseline = Read(kCpu);
  RunResults current = baseline;
  CaseResult* skipped = Find(current, "c4_source_device_memory/load_then_to@single-gpu");
  skipped->verdict = Outcome::kSkipped;
  skipped->measured.reset();
  skipped->skip_reason = "needs 1 GPU(s), host has 0";
  const DiffResult d = Diff(baseline, current);
  ASSERT_EQ(d.changes.size(), 1u);
  EXPECT_EQ(d.changes[0].kind, CellChange::Kind::kOutcome);
  EXPECT_TRUE(d.changes[0].regression);
  EXPECT_TRUE(d.Regressed());
}

TEST(Diff, AFailureThatPassesNowIsFixed) {
  RunResults baseline = Read(kCpu);
  const RunResults current = Read(kCpu);
  Find(baseline, "missing_gpu/map_location@missing-gpu")->verdict = Outcome::kFail;
  const DiffResult d = Diff(baseline, current);
  EXPECT_EQ(d.Count(CellChange::Kind::kFixed), 1);
  EXPECT_FALSE(d.Regressed());
}

TEST(Diff, BytesWithinTheToleranceAreUnchanged) {
  const RunResults baseline = Read(kCpu);
  RunResults current = baseline;
  Find(current, "c4_source_device_memory/load_then_to@single-gpu")->measured->ledger->copies.Add(-1, 0, 4096);
  EXPECT_TRUE(Diff(baseline, current).Regressed());
  EXPECT_FALSE(Diff(baseline, current, {.bytes = 4096}).Regressed());
  EXPECT_FALSE(Diff(baseline, current, {.bytes_fraction = 0.01}).Regressed());
}

TEST(Diff, ABaselineFromAnotherLibTorchSaysSoAndComparesTheRest) {
  const RunResults cpu = Read(kCpu), cuda = Read(kCuda);
  const DiffResult d = Diff(cpu, cuda);
  ASSERT_FALSE(d.notes.empty());
  EXPECT_THAT(d.notes[0], HasSubstr("runs differ in LibTorch"));
  EXPECT_THAT(d.notes[0], HasSubstr("run 1 1.13.1 CPU-only, run 2 2.11.0 CUDA"));
  EXPECT_GT(d.changes.size() + d.unchanged, 100u);
}

TEST(Diff, RunsWithNoCellInCommonSayTheyCannotBeCompared) {
  const RunResults cpu = Read(kCpu);
  RunResults other = cpu;
  for (CaseResult& c : other.cases) c.id = "elsewhere/" + c.id;
  const DiffResult d = Diff(cpu, other);
  ASSERT_FALSE(d.notes.empty());
  EXPECT_THAT(d.notes.back(), HasSubstr("shares no cell with run 1: other scenario files?"));
  EXPECT_EQ(d.Count(CellChange::Kind::kRemoved), static_cast<int>(cpu.cases.size()));
}

TEST(Merge, VirtualAgainstRealDevicesIsAFidelityComparison) {
  const std::vector<RunResults> runs = {Read(kCpu), Read(kCuda), Read(kH100)};
  const std::vector<MergedCell> rows = Merge(runs);
  const MergedCell* measured_on_both = nullptr;
  for (const MergedCell& row : rows) {
    if (row.id == "c4_source_device_memory/load_then_to@single-gpu") measured_on_both = &row;
  }
  ASSERT_NE(measured_on_both, nullptr);
  EXPECT_TRUE(measured_on_both->fidelity);
  ASSERT_NE(measured_on_both->by_run[2], nullptr);
  // A cell only virtual devices measured is no fidelity comparison.
  for (const MergedCell& row : rows) {
    if (row.by_run[2] == nullptr || !row.by_run[2]->measured) EXPECT_FALSE(row.fidelity) << row.id;
  }
}

TEST(Merge, CellsThatDifferBetweenRunsSayHow) {
  std::vector<RunResults> runs = {Read(kCpu), Read(kCpu)};
  runs[1].run.label = "second";
  EXPECT_TRUE(Merge(runs)[0].differences.empty());
  runs[1].cases[0].measured->outcome = Status(ErrorClass::kCrashed, "crashed(SIGSEGV)");
  const std::vector<MergedCell> rows = Merge(runs);
  ASSERT_FALSE(rows[0].differences.empty());
  EXPECT_EQ(rows[0].differences[0], "run 2 vs run 1: outcome: cuda-unavailable -> crashed");
}

TEST(Flatten, KeysCellsByRunAndCase) {
  std::vector<RunResults> runs = {Read(kCpu), Read(kH100)};
  const RunResults flat = Flatten(runs);
  EXPECT_EQ(flat.cases.size(), runs[0].cases.size() + runs[1].cases.size());
  EXPECT_EQ(flat.cases.front().id, runs[0].run.Title() + ": " + runs[0].cases.front().id);
  // One run is left as it is, unless it must pair with a merged report's run.
  EXPECT_EQ(Flatten({runs[0]}).cases.front().id, runs[0].cases.front().id);
  EXPECT_EQ(Flatten({runs[0]}, true).cases.front().id, flat.cases.front().id);
}

TEST(Flatten, RunsOfOneTitleAreNumberedWithAWarning) {
  const RunResults cpu = Read(kCpu);
  const RunResults flat = Flatten({cpu, cpu});
  EXPECT_EQ(flat.cases[cpu.cases.size()].id, cpu.run.Title() + " (2): " + cpu.cases[0].id);
  ASSERT_FALSE(flat.warnings.empty());
  EXPECT_THAT(flat.warnings[0], HasSubstr("give each runner its own --label"));
}

// --- Bad input: a clear message naming the file, never a crash ---------

TEST(ReadRunResults, ATruncatedReportSaysSo) {
  const std::string text = FileText(kCpu);
  Result<RunResults> r = ReadRunResults(TempFile("truncated.json", text.substr(0, text.size() / 2)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_class(), ErrorClass::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("truncated.json: not a complete JSON document"));
  EXPECT_THAT(r.status().message(), HasSubstr("truncated, or not a report.json?"));
}

TEST(ReadRunResults, JsonThatIsNoReportSaysSo) {
  Result<RunResults> r = ReadRunResults(TempFile("other.json", "{\"name\": \"package.json\"}"));
  EXPECT_THAT(r.status().message(), HasSubstr("other.json: no \"cases\" list: not a report.json written by replay"));
}

TEST(ReadRunResults, AHandEditedCaseIsLeftOutWithAWarning) {
  nlohmann::json j = nlohmann::json::parse(FileText(kCpu));
  j["cases"][3].erase("verdict");
  j["cases"][5]["verdict"] = "PASSED";
  j["cases"][7] = 42;
  Result<RunResults> r = ReadRunResults(TempFile("edited.json", j.dump()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cases.size(), j["cases"].size() - 3);
  ASSERT_EQ(r->warnings.size(), 3u);
  EXPECT_THAT(r->warnings[0], HasSubstr("cases[3] \"" + j["cases"][3]["id"].get<std::string>() +
                                        "\": unreadable, left out"));
  EXPECT_THAT(r->warnings[1], HasSubstr("verdict: unknown outcome \"PASSED\""));
  EXPECT_THAT(r->warnings[2], HasSubstr("cases[7]: unreadable, left out"));
}

TEST(ReadRunResults, AReportWhoseCasesAreAllUnreadableIsAnError) {
  Result<RunResults> r = ReadRunResults(TempFile("hollow.json", "{\"cases\": [1, 2]}"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("none of its 2 cases can be read"));
}

TEST(ReadRunResults, AnotherHarnessVersionOrAnOldFormatIsReadWithAWarning) {
  nlohmann::json j = nlohmann::json::parse(FileText(kCpu));
  j["run"]["harness_version"] = "0.1.0";
  Result<RunResults> newer = ReadRunResults(TempFile("version.json", j.dump()));
  ASSERT_TRUE(newer.ok());
  EXPECT_THAT(newer->warnings.at(0), HasSubstr("written by harness 0.1.0, this is"));
  j.erase("run");
  j.erase("format");
  Result<RunResults> old = ReadRunResults(TempFile("format1.json", j.dump()));
  ASSERT_TRUE(old.ok());
  EXPECT_THAT(old->warnings.at(0), HasSubstr("no run facts (report format 1"));
  const RunResults cpu = Read(kCpu);
  EXPECT_THAT(ComparabilityNotes({&cpu, &*newer}).at(0), HasSubstr("runs differ in harness version"));
}

TEST(ReadRunResults, MissingFilesFoldersAndFifosAreIoErrors) {
  EXPECT_EQ(ReadRunResults("no/such/report.json").status().error_class(), ErrorClass::kIoError);
  // A folder without a report.json in it.
  EXPECT_THAT(ReadRunResults(std::getenv("TEST_TMPDIR")).status().message(), HasSubstr("report.json"));
  const std::string fifo = std::string(std::getenv("TEST_TMPDIR")) + "/fifo.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(ReadRunResults(fifo).status().message(), HasSubstr("not a regular file"));
}

TEST(ReadRunResults, NegativeCountsAreAHandEditLeftOut) {
  nlohmann::json j = nlohmann::json::parse(FileText(kCpu));
  j["cases"][0]["ledger"]["host_to_device"]["bytes"] = -1;
  Result<RunResults> r = ReadRunResults(TempFile("negative.json", j.dump()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cases.size(), j["cases"].size() - 1);
  EXPECT_THAT(r->warnings.at(0), HasSubstr("ledger.host_to_device.bytes is negative (-1)"));
}

TEST(ReadReports, AHostileMergedReportIsAnErrorOrAWarningNeverACrash) {
  nlohmann::json run = nlohmann::json::parse(FileText(kCpu));
  for (const nlohmann::json& format : {nlohmann::json("2"), nlohmann::json(nullptr), nlohmann::json::array()}) {
    nlohmann::json merged = {{"merged", true}, {"format", format}, {"runs", {run}}};
    Result<std::vector<RunResults>> r = ReadReports(TempFile("hostile.json", merged.dump()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->size(), 1u);
  }
  nlohmann::json merged = {{"merged", true}, {"runs", {run, 7}}};
  Result<std::vector<RunResults>> r = ReadReports(TempFile("hostile.json", merged.dump()));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("hostile.json [2]: no run"));
}

TEST(ReadReports, AMergedReportWithoutRunsIsAnError) {
  Result<std::vector<RunResults>> r = ReadReports(TempFile("merged.json", "{\"merged\": true, \"runs\": []}"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("a merged report without runs"));
}

}  // namespace
}  // namespace harness::report
