// Exact byte counts on the CPU-only leg with virtual devices.
#include "harness/recorder/recorder.h"

#include <ATen/ops/ones.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fixtures/fixture.h"
#include "harness/base/exception_boundary.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"

namespace harness::recorder {
namespace {

// The exception boundary reads LibTorch's c10::Error without its backtrace.
TEST(RunGuardedTest, ClassifiesLibTorchErrorsWithoutTheirBacktrace) {
  Status loader = RunGuarded([] { TORCH_CHECK(false, "CUDA error: invalid device ordinal"); });
  EXPECT_EQ(loader.error_class(), ErrorClass::kInvalidDeviceOrdinal);
  EXPECT_EQ(loader.message().find("Exception raised from"), std::string::npos) << loader.message();
  EXPECT_EQ(loader.message().rfind("CUDA error: invalid device ordinal", 0), 0u) << loader.message();
}

using fixtures::Format;

class RecorderVirtualTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env::VirtualCudaLinked()) GTEST_SKIP() << "needs the virtual backend (CPU-only leg)";
    env::ConfigureVirtualCuda({.device_count = 2});
    fixtures::FixtureSpec spec;
    spec.total_bytes = 256 << 10;
    spec.placement = "cuda:0";
    const char* tmp = std::getenv("TEST_TMPDIR");
    auto f = fixtures::Generate(spec, std::string(tmp ? tmp : "/tmp") + "/rec" + std::to_string(getpid()));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fixture_ = *f;
  }
  void TearDown() override { env::ConfigureVirtualCuda({}); }

  // The fixture saved on cuda:0, loaded there and moved to the CPU.
  Ledger LoadThenToCpu() {
    Ledger ledger;
    Status s = RunRecorded(
        [&] {
          fixtures::LoadedCheckpoint c = fixtures::Load(fixture_.checkpoint_path, Format::kTorchScript, c10::nullopt);
          c.To(c10::Device("cpu"));
        },
        &ledger);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ledger;
  }

  fixtures::Fixture fixture_;
};

TEST_F(RecorderVirtualTest, MapLocationCpuMovesZeroBytes) {
  Ledger ledger;
  c10::optional<fixtures::LoadedCheckpoint> kept;
  Status s = RunRecorded(
      [&] { kept = fixtures::Load(fixture_.checkpoint_path, Format::kTorchScript, c10::Device("cpu")); }, &ledger);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ledger.transfer(Direction::kHostToDevice).bytes, 0);
  EXPECT_EQ(ledger.transfer(Direction::kDeviceToHost).bytes, 0);
  EXPECT_EQ(ledger.memory["cuda:0"].peak_bytes, 0);
  EXPECT_TRUE(ledger.disagreements.empty());
  // The checkpoint lands in host memory once.
  EXPECT_GE(ledger.memory["cpu"].held_bytes, fixture_.manifest.storage_bytes);
  EXPECT_LE(ledger.memory["cpu"].held_bytes, fixture_.manifest.storage_bytes + (64 << 10));
}

// Each copy reaches by_op once, whichever source saw it: LibTorch 1.13 gives
// the dispatcher's callbacks inputs for some copies and not for others, and
// the virtual backend and the _to_copy output both used to count the same
// copy (by_op twice the bytes moved).
TEST_F(RecorderVirtualTest, ByOpAttributesEachMovedByteOnce) {
  Ledger ledger = LoadThenToCpu();
  int64_t moved = 0, attributed = 0;
  for (Direction d : kDirections) moved += ledger.transfer(d).bytes;
  for (const auto& [op, transfer] : ledger.by_op) attributed += transfer.bytes;
  EXPECT_GT(moved, 0);
  EXPECT_EQ(attributed, moved) << nlohmann::json(ledger).dump();
}

TEST_F(RecorderVirtualTest, LoadThenToCpuMovesTheCheckpointThereAndBack) {
  Ledger ledger = LoadThenToCpu();
  const int64_t storage = fixture_.manifest.storage_bytes;
  EXPECT_EQ(ledger.transfer(Direction::kHostToDevice).bytes, storage);
  // Module::to copies each tensor; the view's storage is copied again as its
  // own tensor's bytes, so D2H covers at least the storages.
  EXPECT_GE(ledger.transfer(Direction::kDeviceToHost).bytes, storage);
  EXPECT_EQ(ledger.memory["cuda:0"].allocated_bytes, storage);
  EXPECT_EQ(ledger.memory["cuda:0"].peak_bytes, storage);
  EXPECT_TRUE(ledger.disagreements.empty()) << ledger.disagreements[0];
  // Host memory: the records read from the archive are staged on the host
  // before the H2D copies, and the tensors come back there.
  EXPECT_GE(ledger.memory["cpu"].allocated_bytes, 2 * storage);
  EXPECT_GE(ledger.memory["cpu"].peak_bytes, storage);
  EXPECT_GT(ledger.by_op.size(), 0u);
}

TEST_F(RecorderVirtualTest, MissingDeviceIsClassifiedNotThrown) {
  env::ConfigureVirtualCuda({.device_count = 0});
  Ledger ledger;
  Status s =
      RunRecorded([&] { fixtures::Load(fixture_.checkpoint_path, Format::kTorchScript, c10::nullopt); }, &ledger);
  EXPECT_EQ(s.error_class(), ErrorClass::kCudaUnavailable) << s.ToString();
}

}  // namespace
}  // namespace harness::recorder

namespace harness::recorder {
namespace {

// Both legs: the dispatcher source and the CPU allocator source.
TEST(RecorderAnyLeg, HostCopiesAndAllocationsAreCounted) {
  Ledger ledger;
  at::Tensor kept;
  Status s = RunRecorded([&] { kept = at::ones({1024}).to(at::kDouble); }, &ledger);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // 4 KiB of float32 ones plus their 8 KiB float64 copy.
  EXPECT_GE(ledger.memory["cpu"].allocated_bytes, 4096 + 8192);
  EXPECT_GE(ledger.memory["cpu"].held_bytes, 8192);
  const bool counts = std::find(ledger.sources.begin(), ledger.sources.end(), "dispatcher") != ledger.sources.end();
  if (counts) {
    EXPECT_EQ(ledger.transfer(Direction::kHostToHost).bytes, 4096);
    EXPECT_EQ(ledger.transfer(Direction::kHostToHost).count, 1);
    EXPECT_EQ(ledger.by_op["aten::to"].bytes, 4096);
  } else {
    // LibTorch 1.13 gives callbacks no inputs: ops only (see docs/ledger.md).
    EXPECT_NE(std::find(ledger.sources.begin(), ledger.sources.end(), "dispatcher(ops only)"), ledger.sources.end());
  }
}

// A real GPU (CUDA leg on a GPU runner): dispatcher bytes and the caching
// allocator's device statistics.
TEST(RecorderRealGpu, HostToDeviceCopyAndDevicePeak) {
  if (env::VirtualCudaLinked() || !torch::cuda::is_available()) GTEST_SKIP() << "needs a real GPU";
  Ledger ledger;
  at::Tensor host = at::ones({1 << 20});  // 4 MiB
  at::Tensor device;
  Status s = RunRecorded([&] { device = host.to(at::Device("cuda:0")); }, &ledger);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ledger.transfer(Direction::kHostToDevice).bytes, 4 << 20);
  EXPECT_EQ(ledger.copies.device_pairs["cpu->cuda:0"].bytes, 4 << 20);
  EXPECT_EQ(ledger.memory["cuda:0"].allocated_bytes, 4 << 20);
  EXPECT_EQ(ledger.memory["cuda:0"].held_bytes, 4 << 20);
  // The driver's own count, through CUPTI, agrees with the copy kernel's.
  EXPECT_NE(std::find(ledger.sources.begin(), ledger.sources.end(), "cupti"), ledger.sources.end())
      << nlohmann::json(ledger).dump();
  EXPECT_TRUE(ledger.disagreements.empty()) << nlohmann::json(ledger).dump();
}

}  // namespace
}  // namespace harness::recorder
