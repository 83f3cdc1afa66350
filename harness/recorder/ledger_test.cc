// The ledger's data and JSON, and the ledger of an injected CUPTI trace.
#include "harness/recorder/ledger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace harness::recorder {
namespace {

using cupti::kHost;

TEST(CopiesTest, DirectionsAndPairsFromDeviceIndices) {
  Copies t;
  t.Add(-1, 0, 10);
  t.Add(0, -1, 20);
  t.Add(1, 0, 30);
  t.Add(-1, -1, 40);
  EXPECT_EQ(t[Direction::kHostToDevice].bytes, 10);
  EXPECT_EQ(t[Direction::kDeviceToHost].bytes, 20);
  EXPECT_EQ(t[Direction::kDeviceToDevice].bytes, 30);
  EXPECT_EQ(t[Direction::kHostToHost].bytes, 40);
  EXPECT_EQ(t.device_pairs.at("cpu->cuda:0").bytes, 10);
  EXPECT_EQ(t.device_pairs.at("cuda:0->cpu").bytes, 20);
  EXPECT_EQ(t.device_pairs.at("cuda:1->cuda:0").bytes, 30);
  EXPECT_EQ(t.device_pairs.count("cpu->cpu"), 0u);
}

TEST(CopiesTest, FromDriverKeepsBytesAndCounts) {
  cupti::DriverTally d;
  d.AddCopy(kHost, 0, 100);
  d.AddCopy(kHost, 0, 100);
  d.AddCopy(0, 1, 5);
  d.AddCopy(kHost, kHost, 7);
  Copies t = Copies::FromDriver(d);
  EXPECT_EQ(t[Direction::kHostToDevice].bytes, 200);
  EXPECT_EQ(t[Direction::kHostToDevice].count, 2);
  EXPECT_EQ(t[Direction::kDeviceToDevice].bytes, 5);
  EXPECT_EQ(t[Direction::kHostToHost].bytes, 7);
  EXPECT_EQ(t.device_pairs.at("cuda:0->cuda:1").count, 1);
}

TEST(LedgerTest, InjectedLedgerSaysWhatItCouldNotSee) {
  cupti::DriverTally d;
  d.AddCopy(kHost, 0, 4096);
  d.AddAllocation(0, 2 << 20);
  Ledger l = LedgerFromInjectedTally(d, "no process of the command had a usable GPU");
  EXPECT_EQ(l.transfer(Direction::kHostToDevice).bytes, 4096);
  EXPECT_EQ(l.memory.at("cuda:0").peak_bytes, 2 << 20);
  EXPECT_EQ(l.memory.count("cpu"), 0u);
  EXPECT_EQ(l.sources, std::vector<std::string>{"cupti-injection"});
  EXPECT_EQ(l.unmeasured, (std::vector<std::string>{"memory.cpu", "by_op"}));
  EXPECT_NE(l.notes.at("cupti-injection").find("usable GPU"), std::string::npos);
}

TEST(DirectionTest, NamesRoundTripAndFollowDeviceIndices) {
  for (Direction d : kDirections) EXPECT_EQ(DirectionFromName(DirectionName(d)), d);
  EXPECT_EQ(DirectionFromName("h2d"), std::nullopt);
  EXPECT_EQ(DirectionAbbreviation(Direction::kDeviceToHost), "d2h");
  EXPECT_EQ(DirectionOf(-1, 2), Direction::kHostToDevice);
  EXPECT_EQ(DirectionOf(1, 0), Direction::kDeviceToDevice);
}

TEST(LedgerTest, JsonRoundTrips) {
  cupti::DriverTally d;
  d.AddCopy(kHost, 1, 4096);
  Ledger l = LedgerFromInjectedTally(d, "note");
  l.by_op["aten::to"].Add(8);
  l.disagreements.push_back("host_to_device: a vs b");
  l.wall_seconds = 0.5;
  l.checkpoint_bytes = 4096;
  const nlohmann::json j = l;
  EXPECT_EQ(nlohmann::json(j.get<Ledger>()), j);
  EXPECT_FALSE(j.get<Ledger>().Measures("memory.cpu"));
  EXPECT_TRUE(j.get<Ledger>().Measures("memory.cuda:1"));
}

TEST(LedgerTest, JsonHasEveryDocumentedField) {
  Ledger l;
  l.copies[Direction::kHostToDevice].Add(3);
  l.memory["cpu"] = {1, 2, 3};
  l.notes["cupti"] = "not traced: why";
  nlohmann::json j = l;
  for (const char* field :
       {"host_to_device", "device_to_host", "device_to_device", "host_to_host", "device_pairs", "by_op", "memory",
        "sources", "disagreements", "unmeasured", "notes", "wall_seconds", "checkpoint_bytes"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["host_to_device"]["bytes"], 3);
  EXPECT_EQ(j["memory"]["cpu"]["held_bytes"], 3);
  EXPECT_EQ(j["notes"]["cupti"], "not traced: why");
}

}  // namespace
}  // namespace harness::recorder
