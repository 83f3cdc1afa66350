// Folding CUPTI activity records into a DriverTally, and the per-process
// report's JSON. The records are built by hand in CUPTI's own structs, as
// CUPTI hands them back, so the mapping is pinned without a GPU.
#include "harness/recorder/cupti/driver_tally.h"

#include <gtest/gtest.h>

namespace harness::recorder::cupti {
namespace {

TEST(DriverTallyTest, CopiesAddUpPerDevicePair) {
  DriverTally t;
  t.AddCopy(kHost, 0, 100);
  t.AddCopy(kHost, 0, 28);
  t.AddCopy(1, 0, 7);
  EXPECT_EQ(t.copies.at({kHost, 0}).bytes, 128);
  EXPECT_EQ(t.copies.at({kHost, 0}).count, 2);
  EXPECT_EQ(t.copies.at({1, 0}).bytes, 7);
  EXPECT_EQ(t.copies.count({0, kHost}), 0u);
}

TEST(DriverTallyTest, PeakIsTheHighestLevelNotTheSumOfAllocations) {
  DriverTally t;
  t.AddAllocation(0, 2 << 20);
  t.AddAllocation(0, 2 << 20);
  t.AddRelease(0, 2 << 20);
  t.AddAllocation(0, 1 << 20);
  const DeviceAllocations& m = t.device_memory.at(0);
  EXPECT_EQ(m.allocated_bytes, 5 << 20);
  EXPECT_EQ(m.peak_bytes, 4 << 20);
  EXPECT_EQ(m.current_bytes, 3 << 20);
}

TEST(DriverTallyTest, MergeAddsCopiesAndPeaks) {
  DriverTally a, b;
  a.AddCopy(kHost, 0, 10);
  a.AddAllocation(0, 100);
  b.AddCopy(kHost, 0, 5);
  b.AddCopy(0, kHost, 3);
  b.AddAllocation(0, 50);
  b.dropped_records = 2;
  a.Merge(b);
  EXPECT_EQ(a.copies.at({kHost, 0}).bytes, 15);
  EXPECT_EQ(a.copies.at({kHost, 0}).count, 2);
  EXPECT_EQ(a.copies.at({0, kHost}).bytes, 3);
  EXPECT_EQ(a.device_memory.at(0).peak_bytes, 150);
  EXPECT_EQ(a.dropped_records, 2);
}

#if HARNESS_CUDA_HAS_CUPTI
CUpti_ActivityMemcpy6 Memcpy(CUpti_ActivityMemcpyKind kind, uint32_t device, uint64_t bytes) {
  CUpti_ActivityMemcpy6 r{};
  r.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  r.copyKind = static_cast<uint8_t>(kind);
  r.deviceId = device;
  r.bytes = bytes;
  return r;
}

void Add(const CUpti_ActivityMemcpy6& r, DriverTally* t) {
  AddActivityRecord(reinterpret_cast<const CUpti_Activity&>(r), t);
}

// One row per CUPTI memcpy kind: where the bytes went.
TEST(AddActivityRecordTest, EveryMemcpyKindHasItsDirection) {
  struct Row {
    CUpti_ActivityMemcpyKind kind;
    int src, dst;
  };
  const Row rows[] = {
      {CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, kHost, 2}, {CUPTI_ACTIVITY_MEMCPY_KIND_HTOA, kHost, 2},
      {CUPTI_ACTIVITY_MEMCPY_KIND_DTOH, 2, kHost}, {CUPTI_ACTIVITY_MEMCPY_KIND_ATOH, 2, kHost},
      {CUPTI_ACTIVITY_MEMCPY_KIND_DTOD, 2, 2},     {CUPTI_ACTIVITY_MEMCPY_KIND_ATOA, 2, 2},
      {CUPTI_ACTIVITY_MEMCPY_KIND_ATOD, 2, 2},     {CUPTI_ACTIVITY_MEMCPY_KIND_DTOA, 2, 2},
      {CUPTI_ACTIVITY_MEMCPY_KIND_PTOP, 2, 2},     {CUPTI_ACTIVITY_MEMCPY_KIND_HTOH, kHost, kHost},
  };
  for (const Row& row : rows) {
    DriverTally t;
    Add(Memcpy(row.kind, 2, 4096), &t);
    ASSERT_EQ(t.copies.size(), 1u) << "kind " << row.kind;
    EXPECT_EQ(t.copies.begin()->first, std::make_pair(row.src, row.dst)) << "kind " << row.kind;
    EXPECT_EQ(t.copies.begin()->second.bytes, 4096) << "kind " << row.kind;
  }
}

TEST(AddActivityRecordTest, UnknownMemcpyKindIsIgnored) {
  DriverTally t;
  Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN, 0, 64), &t);
  EXPECT_TRUE(t.Empty());
}

TEST(AddActivityRecordTest, PeerToPeerKeepsBothDevices) {
  CUpti_ActivityMemcpyPtoP4 r{};
  r.kind = CUPTI_ACTIVITY_KIND_MEMCPY2;
  r.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
  r.deviceId = 0;
  r.srcDeviceId = 1;
  r.dstDeviceId = 0;
  r.bytes = 1 << 20;
  DriverTally t;
  AddActivityRecord(reinterpret_cast<const CUpti_Activity&>(r), &t);
  EXPECT_EQ(t.copies.at({1, 0}).bytes, 1 << 20);
}

TEST(AddActivityRecordTest, DeviceAllocationsCountHostAllocationsDoNot) {
  auto memory = [](CUpti_ActivityMemoryOperationType op, CUpti_ActivityMemoryKind kind, uint64_t bytes) {
    CUpti_ActivityMemory4 r{};
    r.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
    r.memoryOperationType = op;
    r.memoryKind = kind;
    r.deviceId = 1;
    r.bytes = bytes;
    return r;
  };
  DriverTally t;
  for (const CUpti_ActivityMemory4& r :
       {memory(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION, CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 2 << 20),
        memory(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION, CUPTI_ACTIVITY_MEMORY_KIND_PINNED, 1 << 20),
        memory(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE, CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 2 << 20)}) {
    AddActivityRecord(reinterpret_cast<const CUpti_Activity&>(r), &t);
  }
  ASSERT_EQ(t.device_memory.size(), 1u);
  EXPECT_EQ(t.device_memory.at(1).allocated_bytes, 2 << 20);
  EXPECT_EQ(t.device_memory.at(1).peak_bytes, 2 << 20);
  EXPECT_EQ(t.device_memory.at(1).current_bytes, 0);
}

TEST(AddActivityRecordTest, OtherKindsAreIgnored) {
  CUpti_ActivityMemset4 r{};
  r.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  r.bytes = 1024;
  DriverTally t;
  AddActivityRecord(reinterpret_cast<const CUpti_Activity&>(r), &t);
  EXPECT_TRUE(t.Empty());
}
#endif  // HARNESS_CUDA_HAS_CUPTI

TEST(ProcessReportTest, JsonRoundTrip) {
  ProcessReport r;
  r.pid = 4242;
  r.program = "/usr/bin/python3.11";
  r.injected = true;
  r.cuda_usable = true;
  r.tally.AddCopy(kHost, 0, 1 << 20);
  r.tally.AddCopy(0, 1, 512);
  r.tally.AddAllocation(0, 2 << 20);
  r.tally.dropped_records = 3;
  Result<ProcessReport> back = ProcessReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->program, r.program);
  EXPECT_TRUE(back->injected);
  EXPECT_TRUE(back->cuda_usable);
  EXPECT_EQ(back->cupti, "ok");
  EXPECT_EQ(back->tally.copies.at({kHost, 0}).bytes, 1 << 20);
  EXPECT_EQ(back->tally.copies.at({0, 1}).count, 1);
  EXPECT_EQ(back->tally.device_memory.at(0).peak_bytes, 2 << 20);
  EXPECT_EQ(back->tally.dropped_records, 3);
}

TEST(ProcessReportTest, MalformedReportsAreIoErrors) {
  for (const char* text : {"", "not json", "[]", R"({"pid": 1})", R"({"pid": "x", "injected": true})"}) {
    Result<ProcessReport> r = ProcessReport::FromJson(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().error_class(), ErrorClass::kIoError) << text;
  }
}

}  // namespace
}  // namespace harness::recorder::cupti
