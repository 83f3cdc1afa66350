// The ledger's data and JSON, and the ledger of an injected CUPTI trace.
#include "harness/recorder/ledger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace harness::recorder {
namespace {

using cupti::kHost;

TEST(CopyTallyTest, DirectionsAndPairsFromDeviceIndices) {
  CopyTally t;
  t.Add(-1, 0, 10);
  t.Add(0, -1, 20);
  t.Add(1, 0, 30);
  t.Add(-1, -1, 40);
  EXPECT_EQ(t.h2d.bytes, 10);
  EXPECT_EQ(t.d2h.bytes, 20);
  EXPECT_EQ(t.d2d.bytes, 30);
  EXPECT_EQ(t.h2h.bytes, 40);
  EXPECT_EQ(t.pairs.at("cpu->cuda:0").bytes, 10);
  EXPECT_EQ(t.pairs.at("cuda:0->cpu").bytes, 20);
  EXPECT_EQ(t.pairs.at("cuda:1->cuda:0").bytes, 30);
  EXPECT_EQ(t.pairs.count("cpu->cpu"), 0u);
}

TEST(CopyTallyTest, FromDriverKeepsBytesAndCounts) {
  cupti::DriverTally d;
  d.AddCopy(kHost, 0, 100);
  d.AddCopy(kHost, 0, 100);
  d.AddCopy(0, 1, 5);
  d.AddCopy(kHost, kHost, 7);
  CopyTally t = CopyTally::FromDriver(d);
  EXPECT_EQ(t.h2d.bytes, 200);
  EXPECT_EQ(t.h2d.count, 2);
  EXPECT_EQ(t.d2d.bytes, 5);
  EXPECT_EQ(t.h2h.bytes, 7);
  EXPECT_EQ(t.pairs.at("cuda:0->cuda:1").count, 1);
}

TEST(LedgerTest, InjectedLedgerSaysWhatItCouldNotSee) {
  cupti::DriverTally d;
  d.AddCopy(kHost, 0, 4096);
  d.AddAllocation(0, 2 << 20);
  Ledger l = LedgerFromInjectedTally(d, "no process of the command had a usable GPU");
  EXPECT_EQ(l.host_to_device.bytes, 4096);
  EXPECT_EQ(l.memory.at("cuda:0").peak_bytes, 2 << 20);
  EXPECT_EQ(l.memory.count("cpu"), 0u);
  EXPECT_EQ(l.sources, std::vector<std::string>{"cupti-injection"});
  EXPECT_EQ(l.unmeasured, (std::vector<std::string>{"memory.cpu", "by_op"}));
  EXPECT_NE(l.notes.at("cupti-injection").find("usable GPU"), std::string::npos);
}

TEST(LedgerTest, JsonHasEveryDocumentedField) {
  Ledger l;
  l.host_to_device.Add(3);
  l.memory["cpu"] = {1, 2, 3};
  l.notes["cupti"] = "not traced: why";
  nlohmann::json j = nlohmann::json::parse(l.ToJson());
  for (const char* field : {"host_to_device", "device_to_host", "device_to_device", "host_to_host", "device_pairs",
                            "by_op", "memory", "sources", "disagreements", "unmeasured", "notes", "wall_seconds",
                            "checkpoint_bytes"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["host_to_device"]["bytes"], 3);
  EXPECT_EQ(j["memory"]["cpu"]["held_bytes"], 3);
  EXPECT_EQ(j["notes"]["cupti"], "not traced: why");
}

}  // namespace
}  // namespace harness::recorder
