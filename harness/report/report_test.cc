// The four report files and the terminal matrix, from hand-made case reports:
// every case is in the JSON, failures and skips are in the JUnit XML with
// their reasons, and the matrix cells say outcome, class and bytes.
#include "harness/report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/base/subprocess.h"

namespace harness::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

runner::CaseReport Case(const std::string& strategy, const std::string& environment, verdict::Outcome outcome) {
  runner::CaseReport r;
  r.c.file = "scenarios/example.yaml";
  r.c.strategy = strategy;
  r.c.environment.name = environment;
  r.c.id = "example/" + strategy + "@" + environment;
  r.c.target = "cpu";
  r.verdict.outcome = outcome;
  r.measured.target = "cpu";
  return r;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner::CaseReport measured = Case("map_location", "missing-gpu", verdict::Outcome::kPass);
    measured.measured.ledger.emplace();
    measured.measured.ledger->sources = {"cupti-injection"};
    runner::CaseReport failed = Case("load_then_to", "missing-gpu", verdict::Outcome::kFail);
    failed.measured.outcome = Status(ErrorClass::kCudaUnavailable, "No CUDA GPUs are available");
    failed.verdict.reasons = {"outcome: expected ok, got cuda-unavailable"};
    // What PyTorch prints (ANSI colours), and worse: NUL, invalid UTF-8.
    failed.worker_output = std::string("\x1b[31mUnpicklingError\x1b[0m: <weights_only> & \"x\"\n\xff\xfe ") +
                           std::string(1, '\0') + " \xe2\x82 end \xe2\x82\xac\xef\xbf\xbf";
    runner::CaseReport unledgered = Case("py_map_location", "missing-gpu", verdict::Outcome::kPass);
    unledgered.measured.ledger_unavailable = "CUPTI injection: process 7 (/usr/bin/python3) ended without reporting";
    runner::CaseReport skipped = Case("map_location", "dual-gpu", verdict::Outcome::kSkipped);
    skipped.skip_reason = "needs 2 GPUs, host has 0";
    skipped.verdict.reasons = {skipped.skip_reason};
    reports_ = {measured, failed, unledgered, skipped};
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/report_test_" + std::to_string(getpid());
    RunInfo info;
    info.label = "unit";
    info.backend = "virtual";
    info.torch_version = "1.13.1";
    run_ = ToRunResults(reports_, info);
    ASSERT_TRUE(WriteRunReports(run_, dir_).ok());
  }
  std::vector<runner::CaseReport> reports_;
  RunResults run_;
  std::string dir_;
};

TEST_F(ReportTest, JsonHoldsEveryCaseWithItsLedgerAndWhyNone) {
  nlohmann::json j = nlohmann::json::parse(Read(dir_ + "/report.json"));
  ASSERT_EQ(j["cases"].size(), 4u);
  EXPECT_EQ(j["cases"][0]["ledger"]["sources"][0], "cupti-injection");
  EXPECT_EQ(j["cases"][1]["outcome"]["message"], "No CUDA GPUs are available");
  EXPECT_EQ(j["cases"][2]["ledger_unavailable"],
            "CUPTI injection: process 7 (/usr/bin/python3) ended without reporting");
  EXPECT_EQ(j["cases"][3]["verdict"], "SKIPPED");
  EXPECT_THAT(j["summary"].get<std::string>(), HasSubstr("2 passed, 1 failed, 1 skipped"));
}

TEST_F(ReportTest, JunitHasOneFailureAndOneSkipWithTheirReasons) {
  std::string xml = Read(dir_ + "/junit.xml");
  EXPECT_THAT(xml, HasSubstr("tests=\"4\" failures=\"1\" skipped=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"outcome: expected ok, got cuda-unavailable\">"));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"needs 2 GPUs, host has 0\"/>"));
}

TEST_F(ReportTest, JunitStaysWellFormedWhateverTheLoaderPrinted) {
  // A real XML parser, not a substring: control characters and invalid
  // UTF-8 made Python's parser reject the file before they were escaped.
  ChildOptions options;
  options.timeout_seconds = 60;
  Child parse = RunProgram({"/usr/bin/python3", "-c",
                            "import sys, xml.etree.ElementTree as E\n"
                            "t = E.parse(sys.argv[1])\n"
                            "out = t.find('testcase[2]/system-out').text\n"
                            "props = {p.get('name'): p.get('value') for p in t.findall('testcase[1]/properties/property')}\n"
                            "print(out); print(props['strategy'], props['host_to_device_bytes'])",
                            dir_ + "/junit.xml"},
                           {}, options);
  ASSERT_TRUE(parse.exited) << parse.output;
  EXPECT_EQ(parse.exit_code, 0) << parse.output;
  EXPECT_THAT(parse.output, HasSubstr("\\x1b[31mUnpicklingError\\x1b[0m: <weights_only> & \"x\"\n\\xff\\xfe \\x00 "
                                      "\\xe2\\x82 end \xe2\x82\xac\\xef\\xbf\\xbf"));
  EXPECT_THAT(parse.output, HasSubstr("map_location 0"));
}

TEST_F(ReportTest, MatrixCellsSayOutcomeClassAndBytes) {
  std::string md = Read(dir_ + "/summary.md");
  EXPECT_THAT(md, HasSubstr("| map_location | PASS ok h2d=0 bytes d2h=0 bytes | SKIPPED |"));
  EXPECT_THAT(md, HasSubstr("| py_map_location | PASS ok (no ledger) | - |"));
  EXPECT_THAT(Matrix(run_.cases), HasSubstr("FAIL cuda-unavailable"));
}

TEST(MatrixTest, SizesUseTheOneHumanReadableForm) {
  runner::CaseReport r = Case("load_then_to", "dual-gpu", verdict::Outcome::kPass);
  r.measured.ledger.emplace();
  r.measured.ledger->copies.Add(-1, 0, 1 << 20);
  r.measured.ledger->copies.Add(1, 0, 1536);
  EXPECT_THAT(Matrix({ToResult(r)}), HasSubstr("PASS ok h2d=1.00 MiB d2h=0 bytes d2d=1.50 KiB"));
}

TEST_F(ReportTest, HtmlShowsWhyEachCellIsWhatItIsInThePage) {
  std::string html = Read(dir_ + "/report.html");
  // Reasons are in the page, not in tooltips.
  EXPECT_THAT(html, HasSubstr("<div class=\"why\">outcome: expected ok, got cuda-unavailable</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"why\">CUPTI injection: process 7 (/usr/bin/python3) ended without reporting</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"why\">needs 2 GPUs, host has 0</div>"));
  // One self-contained page: nothing fetched from elsewhere.
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=\"http")));
}

TEST_F(ReportTest, EveryReportNamesTheRun) {
  EXPECT_THAT(Read(dir_ + "/summary.md"), HasSubstr("| [1] unit |"));
  EXPECT_THAT(Read(dir_ + "/report.html"), HasSubstr("<th>LibTorch</th><td>1.13.1</td>"));
  EXPECT_THAT(Read(dir_ + "/junit.xml"), HasSubstr("<property name=\"run.backend\" value=\"virtual\"/>"));
}

TEST_F(ReportTest, TheJsonReadsBackAsTheSameRun) {
  Result<RunResults> back = ReadRunResults(dir_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->warnings.empty()) << back->warnings[0];
  EXPECT_EQ(back->run.label, "unit");
  ASSERT_EQ(back->cases.size(), run_.cases.size());
  EXPECT_EQ(ReportJson(*back), ReportJson(run_));
}

TEST(WriteReportsTest, AnUnwritableDirectoryIsAnIoError) {
  Status s = WriteRunReports({}, "/proc/no-such-dir");
  EXPECT_EQ(s.error_class(), ErrorClass::kIoError);
}

}  // namespace
}  // namespace harness::report
