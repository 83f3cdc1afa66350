// How ReadInjectedTrace judges what a command's processes reported, on
// hand-written reports (injection_test runs the library in real processes),
// and the placement safety net.
#include "harness/recorder/cupti/injected.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace harness::recorder::cupti {
namespace {

using ::testing::HasSubstr;

// One process image's files: a report, or only the .started of one that
// never reported, or a report that is not JSON.
struct Image {
  std::string stem;  // "<pid>-<nonce>"
  enum { kReport, kStartedOnly, kGarbage } kind = kReport;
  ProcessReport report;
};

ProcessReport Report(bool injected, bool cuda_usable, const std::string& cupti = "ok", int64_t h2d = 0,
                     int64_t dropped = 0) {
  ProcessReport r;
  r.pid = 7;
  r.program = "/usr/bin/python3";
  r.injected = injected;
  r.cuda_usable = cuda_usable;
  r.cuda_check = cuda_usable ? 0 : -1;
  r.cupti = cupti;
  if (h2d > 0) r.tally.AddCopy(kHost, 0, h2d);
  r.tally.dropped_records = dropped;
  return r;
}

struct Row {
  const char* name;
  std::vector<Image> images;
  bool measured;
  const char* why_or_note;  // a substring of `why` (unmeasured) or `note`
  int64_t h2d;              // when measured
};

std::vector<Row> Rows() {
  return {
      {"nothing reported", {}, false, "no process of the command reported", 0},
      {"no GPU anywhere",
       {{"7-1", Image::kReport, Report(false, false, "not started")}},
       true,
       "no process of the command had a usable GPU",
       0},
      {"no GPU, CUPTI failed",
       {{"7-1", Image::kReport, Report(true, false, "CUPTI_ERROR_UNKNOWN (999)")}},
       true,
       "no process of the command had a usable GPU",
       0},
      {"killed, crashed or running", {{"7-1", Image::kStartedOnly, {}}}, false, "ended without reporting", 0},
      {"not injected with a GPU",
       {{"7-1", Image::kReport, Report(false, true, "not started")}},
       false,
       "driver never called the injection library",
       0},
      {"CUPTI failed with a GPU",
       {{"7-1", Image::kReport, Report(true, true, "CUPTI_ERROR_UNKNOWN (999)")}},
       false,
       "CUPTI could not trace: CUPTI_ERROR_UNKNOWN (999)",
       0},
      {"records dropped",
       {{"7-1", Image::kReport, Report(true, true, "ok", 64, 2)}},
       false,
       "CUPTI dropped 2 records",
       0},
      {"not JSON", {{"77-1", Image::kGarbage, {}}}, false, "process 77: CUPTI process report is not a JSON object", 0},
      {"traced images add up",
       {{"7-1", Image::kReport, Report(true, true, "ok", 100)},
        {"7-2", Image::kReport, Report(false, false, "not started")},
        {"8-1", Image::kReport, Report(true, true, "ok", 28)}},
       true,
       "",
       128},
  };
}

TEST(ReadInjectedTraceTest, DecidesFromEveryImagesReport) {
  for (const Row& row : Rows()) {
    char pattern[] = "/tmp/injected-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    for (const Image& image : row.images) {
      const std::string base = dir + "/" + image.stem;
      std::ofstream(base + ".started") << image.report.program << "\n";
      if (image.kind == Image::kReport) std::ofstream(base + ".json") << image.report.ToJson();
      if (image.kind == Image::kGarbage) std::ofstream(base + ".json") << "{\"pid\": 77, \"truncated";
    }
    InjectedTrace t = ReadInjectedTrace(dir);
    std::system(("rm -rf '" + dir + "'").c_str());
    EXPECT_EQ(t.measured, row.measured) << row.name << ": " << t.why;
    EXPECT_THAT(row.measured ? t.note : t.why, HasSubstr(row.why_or_note)) << row.name;
    if (row.measured) {
      auto it = t.tally.copies.find({kHost, 0});
      EXPECT_EQ(it == t.tally.copies.end() ? 0 : it->second.bytes, row.h2d) << row.name;
    }
  }
}

TEST(UntracedPlacementTest, DeviceTensorsNeedATracedCopyOntoADevice) {
  DriverTally none;
  EXPECT_EQ(UntracedPlacement({{"w", "cpu"}}, none), "");
  EXPECT_EQ(UntracedPlacement({{"w", "cpu"}, {"b", "cuda:1"}}, none),
            "tensor b is on cuda:1 but no copy onto a device was traced (a process outside the trace, or a "
            "path without memcpy)");
  DriverTally back_to_host;
  back_to_host.AddCopy(0, kHost, 64);
  EXPECT_NE(UntracedPlacement({{"w", "cuda:0"}}, back_to_host), "");
  DriverTally onto_device;
  onto_device.AddCopy(kHost, 0, 64);
  EXPECT_EQ(UntracedPlacement({{"w", "cuda:0"}}, onto_device), "");
}

TEST(InjectionEnvironmentTest, PreloadsInFrontOfAnExistingPreload) {
  setenv("LD_PRELOAD", "/opt/other.so", 1);
  auto env = InjectionEnvironment("/lib/inject.so", "/tmp/out");
  unsetenv("LD_PRELOAD");
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[0], std::make_pair(std::string("LD_PRELOAD"), std::string("/lib/inject.so /opt/other.so")));
  EXPECT_EQ(env[1], std::make_pair(std::string("CUDA_INJECTION64_PATH"), std::string("/lib/inject.so")));
  EXPECT_EQ(env[2], std::make_pair(std::string("HARNESS_CUPTI_OUTPUT_DIR"), std::string("/tmp/out")));
}

}  // namespace
}  // namespace harness::recorder::cupti
