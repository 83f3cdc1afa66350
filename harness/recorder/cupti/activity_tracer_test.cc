// The in-process tracer against the real CUPTI library. CUPTI's state is per
// process, so every case runs in a forked child.
//
// On a host without an NVIDIA driver (this project's CI) CUPTI 13.0 loads but
// cannot trace: cuptiActivityEnable returns CUPTI_ERROR_UNKNOWN (999). On a
// GPU host the tracer sees real driver-API copies.
#include "harness/recorder/cupti/activity_tracer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>

#include "harness/recorder/cupti/cupti_library.h"
#include "harness/recorder/cupti/test_support.h"
#include "harness/testing/child_probe.h"

namespace harness::recorder::cupti {
namespace {

using ::harness::testing::ChildResult;
using ::harness::testing::Field;
using ::harness::testing::HostHasNvidiaDriver;
using ::harness::testing::RunInFork;
using ::testing::HasSubstr;

std::string StatusFields(const Status& s) {
  return Field("class", std::string(ErrorClassName(s.error_class()))) + Field("message", s.message());
}

TEST(CuptiLibraryTest, TheToolkitsCuptiLoads) {
  if (!kBuiltWithCupti || std::string(HARNESS_CUDA_CUPTI_LIBRARY).empty()) {
    GTEST_SKIP() << "no CUPTI found with the toolkit at build time";
  }
  ChildResult r = RunInFork([] {
    Result<const CuptiLibrary*> lib = LoadCupti();
    return StatusFields(lib.status()) + Field("path", lib.ok() ? (*lib)->path : "");
  });
  EXPECT_EQ(r.fields["class"], "ok") << r.fields["message"];
  EXPECT_THAT(r.fields["path"], HasSubstr("libcupti.so"));
}

TEST(CuptiLibraryTest, ExplicitPathThatIsMissingSaysSo) {
  ChildResult r = RunInFork([] {
    setenv("HARNESS_CUPTI_LIBRARY", "/nonexistent/libcupti.so", 1);
    return StatusFields(LoadCupti().status());
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized");
  if (kBuiltWithCupti) {
    EXPECT_THAT(r.fields["message"], HasSubstr("/nonexistent/libcupti.so"));
  }
}

TEST(CuptiLibraryTest, ALibraryThatIsNotCuptiIsRefusedByName) {
  if (!kBuiltWithCupti) GTEST_SKIP() << "built without CUPTI headers";
  ChildResult r = RunInFork([] {
    setenv("HARNESS_CUPTI_LIBRARY", "libm.so.6", 1);
    return StatusFields(LoadCupti().status());
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized");
  EXPECT_THAT(r.fields["message"], HasSubstr("libm.so.6 is not a usable CUPTI (missing cuptiActivityEnable"));
}

TEST(ActivityTracerTest, StopWithoutStartIsAnInternalError) {
  ChildResult r = RunInFork([] { return StatusFields(ActivityTracer::Get().Stop().status()); });
  EXPECT_EQ(r.fields["class"], kBuiltWithCupti ? "internal" : "env-not-realized");
}

TEST(ActivityTracerTest, WithoutADriverStartSaysWhatCuptiSaid) {
  if (HostHasNvidiaDriver()) GTEST_SKIP() << "this host has an NVIDIA driver";
  if (!kBuiltWithCupti) GTEST_SKIP() << "built without CUPTI headers";
  ChildResult r = RunInFork([] {
    Status s = ActivityTracer::Get().Start({});
    return StatusFields(s) + Field("started", ActivityTracer::Get().started() ? "1" : "0");
  });
  EXPECT_EQ(r.fields["class"], "env-not-realized");
  EXPECT_THAT(r.fields["message"], HasSubstr("CUPTI_ERROR"));
  EXPECT_EQ(r.fields["started"], "0");
}

// testdata/fake_cupti.cc, which hands back the records $FAKE_CUPTI_FLUSHES
// describes: the tracer's folding, flushing and dropping without a GPU.
// "" outside Bazel (the GPU bundle carries no test data).
std::string FakeCupti() { return harness::testing::TestRunfile("harness/recorder/cupti/testdata/libcupti_fake.so"); }

class ActivityTracerWithFakeCuptiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBuiltWithCupti) GTEST_SKIP() << "built without CUPTI headers";
    if (FakeCupti().empty()) GTEST_SKIP() << "testdata/libcupti_fake.so is not in this binary's runfiles";
  }
};

// Runs `session` in a child with the fake CUPTI handing back `flushes`.
ChildResult WithFakeCupti(const std::string& flushes, const std::function<std::string()>& session) {
  const std::string fake = FakeCupti();
  return RunInFork([&] {
    setenv("HARNESS_CUPTI_LIBRARY", fake.c_str(), 1);
    setenv("FAKE_CUPTI_FLUSHES", flushes.c_str(), 1);
    return session();
  });
}

std::string TallyFields(const Result<DriverTally>& t) {
  if (!t.ok()) return StatusFields(t.status());
  std::string out = StatusFields(OkStatus());
  for (const auto& [pair, count] : t->copies) {
    out += Field("copy " + std::to_string(pair.first) + "->" + std::to_string(pair.second),
                 std::to_string(count.bytes) + "/" + std::to_string(count.count));
  }
  for (const auto& [device, m] : t->device_memory) {
    out += Field("peak " + std::to_string(device), std::to_string(m.peak_bytes));
  }
  return out + Field("dropped", std::to_string(t->dropped_records));
}

// One tracing session, Start to Stop, against the fake CUPTI.
ChildResult TraceWithFakeCupti(const std::string& flushes, const TraceOptions& options = {}) {
  return WithFakeCupti(flushes, [options] {
    Status s = ActivityTracer::Get().Start(options);
    if (!s.ok()) return StatusFields(s);
    return TallyFields(ActivityTracer::Get().Stop());
  });
}

TEST_F(ActivityTracerWithFakeCuptiTest, RecordsAreFoldedByDevicePair) {
  ChildResult r = TraceWithFakeCupti(";htod:1048576,htod:1024,dtoh:4096,ptop:1:0:512,alloc:2097152,free:2097152",
                                     {.copies = true, .device_memory = true});
  ASSERT_EQ(r.fields["class"], "ok") << r.fields["message"];
  EXPECT_EQ(r.fields["copy -1->0"], "1049600/2");
  EXPECT_EQ(r.fields["copy 0->-1"], "4096/1");
  EXPECT_EQ(r.fields["copy 1->0"], "512/1");
  EXPECT_EQ(r.fields["peak 0"], "2097152");
  EXPECT_EQ(r.fields["dropped"], "0");
}

TEST_F(ActivityTracerWithFakeCuptiTest, RecordsFlushedAtStartBelongToNoSession) {
  ChildResult r = TraceWithFakeCupti("htod:999;dtoh:64");
  EXPECT_EQ(r.fields.count("copy -1->0"), 0u) << r.raw;
  EXPECT_EQ(r.fields["copy 0->-1"], "64/1");
}

TEST_F(ActivityTracerWithFakeCuptiTest, AnIncompleteRecordCountsAsDroppedWithWhatFollows) {
  ChildResult r = TraceWithFakeCupti(";htod:64,incomplete,dtoh:64");
  EXPECT_EQ(r.fields["copy -1->0"], "64/1") << r.raw;
  EXPECT_EQ(r.fields.count("copy 0->-1"), 0u);
  EXPECT_EQ(r.fields["dropped"], "1");
}

TEST_F(ActivityTracerWithFakeCuptiTest, SnapshotKeepsTracing) {
  ChildResult r = WithFakeCupti(";htod:64;dtoh:32", [] {
    Status s = ActivityTracer::Get().Start({});
    if (!s.ok()) return StatusFields(s);
    Result<DriverTally> snapshot = ActivityTracer::Get().Snapshot();
    std::string out = Field("snapshot_copies", snapshot.ok() ? std::to_string(snapshot->copies.size()) : "error");
    out += Field("started_after_snapshot", ActivityTracer::Get().started() ? "1" : "0");
    return out + TallyFields(ActivityTracer::Get().Stop());
  });
  EXPECT_EQ(r.fields["snapshot_copies"], "1") << r.raw;
  EXPECT_EQ(r.fields["started_after_snapshot"], "1");
  EXPECT_EQ(r.fields["copy -1->0"], "64/1");
  EXPECT_EQ(r.fields["copy 0->-1"], "32/1");
}

TEST_F(ActivityTracerWithFakeCuptiTest, StartingTwiceIsAnInternalError) {
  ChildResult r = WithFakeCupti("", [] {
    Status first = ActivityTracer::Get().Start({});
    return StatusFields(first.ok() ? ActivityTracer::Get().Start({}) : first);
  });
  EXPECT_EQ(r.fields["class"], "internal") << r.raw;
  EXPECT_EQ(r.fields["message"], "CUPTI tracer started twice");
}

TEST(ActivityTracerTest, OnAGpuCountsRealDriverCopiesByDirection) {
  if (!HostHasNvidiaDriver()) GTEST_SKIP() << "no NVIDIA driver on this host";
  constexpr int64_t kBytes = 1 << 20;
  ChildResult r = RunInFork([] {
    ActivityTracer& tracer = ActivityTracer::Get();
    Status started = tracer.Start({.copies = true, .device_memory = true});
    if (!started.ok()) return StatusFields(started);
    std::string copy_error = ::harness::recorder::cupti::testing::CopyThroughDriver(kBytes);
    Result<DriverTally> t = tracer.Stop();
    if (!t.ok()) return StatusFields(t.status());
    auto bytes = [&](int src, int dst) {
      auto it = t->copies.find({src, dst});
      return std::to_string(it == t->copies.end() ? 0 : it->second.bytes);
    };
    auto allocated = t->device_memory.count(0) ? t->device_memory.at(0).allocated_bytes : 0;
    return StatusFields(OkStatus()) + Field("copy_error", copy_error) + Field("h2d", bytes(kHost, 0)) +
           Field("d2h", bytes(0, kHost)) + Field("allocated", std::to_string(allocated)) +
           Field("dropped", std::to_string(t->dropped_records));
  });
  ASSERT_EQ(r.fields["class"], "ok") << r.fields["message"];
  ASSERT_EQ(r.fields["copy_error"], "");
  EXPECT_EQ(r.fields["h2d"], std::to_string(kBytes));
  EXPECT_EQ(r.fields["d2h"], std::to_string(kBytes));
  EXPECT_GE(std::stoll(r.fields["allocated"]), kBytes);
  EXPECT_EQ(r.fields["dropped"], "0");
}

}  // namespace
}  // namespace harness::recorder::cupti
