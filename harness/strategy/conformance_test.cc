// The strategy conformance suite: every strategy linked into this binary
// must honour the contract in strategy.h. Built-ins are checked by
// //harness/strategy:builtin_conformance_test; a user's own strategies by
// strategy_conformance_test() from harness/strategy/defs.bzl, which links
// this file with theirs.
//
// Each check runs once per registered strategy, named after it
// (Strategies/Conformance.LoadsToCpuBitExactly/load_then_to).
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "fixtures/fixture.h"
#include "harness/base/exception_boundary.h"
#include "harness/base/files.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
#include "harness/strategy/strategy.h"

namespace harness::strategy {
namespace {

const std::string& CacheDir() {
  static const std::string* dir = new std::string(std::string(std::getenv("TEST_TMPDIR")) + "/conformance");
  return *dir;
}

fixtures::Fixture MakeFixture(fixtures::Format format, const std::string& placement) {
  fixtures::FixtureSpec spec;
  spec.format = format;
  spec.total_bytes = 16 << 10;
  spec.placement = placement;
  Result<fixtures::Fixture> f = fixtures::Generate(spec, CacheDir());
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : fixtures::Fixture{};
}

// Loads through the harness's exception boundary, as the runner does.
Status LoadGuarded(const Strategy& s, const LoadRequest& r, fixtures::NamedTensors* tensors) {
  return RunGuarded([&] { *tensors = s.Load(r).Tensors(); });
}

std::set<std::string> FilesIn(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDirectory(dir);
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  return names.ok() ? std::set<std::string>(names->begin(), names->end()) : std::set<std::string>{};
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  // Each check gets a $TMPDIR of its own, so what a strategy leaves there
  // is seen.
  void SetUp() override {
    const Result<std::string> scratch = MakeTempDirectory("conformance-tmp-");
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_dir_ = *scratch;
    setenv("TMPDIR", scratch_dir_.c_str(), 1);
  }
  void TearDown() override { setenv("TMPDIR", std::getenv("TEST_TMPDIR"), 1); }

  const Strategy& strategy() const { return *FindStrategy(GetParam()); }
  const std::string& scratch_dir() const { return scratch_dir_; }

 private:
  std::string scratch_dir_;
};

TEST_P(Conformance, NameIsTheRegisteredOneAndUsableInScenarios) {
  ASSERT_NE(FindStrategy(GetParam()), nullptr);
  EXPECT_EQ(strategy().name(), GetParam());
  EXPECT_FALSE(GetParam().empty());
  for (char c : GetParam()) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')
        << "'" << GetParam() << "': scenario files and test names need [A-Za-z0-9_-]";
  }
}

// Every format either loads onto the CPU with every tensor there and its
// bytes intact, or fails with a classified error; at least one loads.
TEST_P(Conformance, LoadsToCpuBitExactlyOrFailsClassified) {
  int loaded_formats = 0;
  for (fixtures::Format format :
       {fixtures::Format::kTorchScript, fixtures::Format::kCppArchive, fixtures::Format::kPickle,
        fixtures::Format::kSafetensors}) {
    SCOPED_TRACE(std::string(fixtures::FormatName(format)));
    const fixtures::Fixture f = MakeFixture(format, "cpu");
    fixtures::NamedTensors tensors;
    Status s = LoadGuarded(strategy(), {f.checkpoint_path, format, "cpu", ""}, &tensors);
    if (!s.ok()) {
      EXPECT_NE(s.error_class(), ErrorClass::kInternal) << "an unclassified error: " << s.ToString();
      continue;
    }
    ++loaded_formats;
    for (const auto& [name, t] : tensors) EXPECT_TRUE(t.device().is_cpu()) << name << " on " << t.device();
    Status integrity = fixtures::CheckIntegrity(f.manifest, tensors, /*require_sharing=*/false);
    EXPECT_TRUE(integrity.ok()) << integrity.ToString();
  }
  EXPECT_GT(loaded_formats, 0) << "loads no format at all";
}

// Saved on cuda:1, loaded onto cuda:0 with two (virtual) devices: every
// tensor ends on the target.
TEST_P(Conformance, PlacesEveryTensorOnACudaTarget) {
  const bool virtual_devices = env::VirtualCudaLinked();
  if (virtual_devices) {
    env::ConfigureVirtualCuda({.device_count = 2});
  } else if (torch::cuda::device_count() < 2) {
    GTEST_SKIP() << "needs two GPUs: virtual ones (CPU-only leg) or real ones";
  }
  const fixtures::Fixture f = MakeFixture(fixtures::Format::kPickle, "cuda:1");
  fixtures::NamedTensors tensors;
  Status s = LoadGuarded(strategy(), {f.checkpoint_path, fixtures::Format::kPickle, "cuda:0", ""}, &tensors);
  if (virtual_devices) env::ConfigureVirtualCuda({});
  ASSERT_TRUE(s.ok()) << "every cuda:1 device is there; the load must succeed: " << s.ToString();
  ASSERT_FALSE(tensors.empty());
  for (const auto& [name, t] : tensors) EXPECT_EQ(t.device().str(), "cuda:0") << name;
}

// A checkpoint that is missing, not a checkpoint, or cut short gives a
// classified error, never a crash or an unclassified one.
TEST_P(Conformance, BadFilesGiveClassifiedErrors) {
  const fixtures::Fixture good = MakeFixture(fixtures::Format::kPickle, "cpu");
  std::ifstream in(good.checkpoint_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string dir = CacheDir();
  std::ofstream(dir + "/text.pt") << "not a checkpoint";
  std::ofstream(dir + "/truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  for (const std::string& path : {dir + "/missing.pt", dir + "/text.pt", dir + "/truncated.pt"}) {
    fixtures::NamedTensors tensors;
    Status s = LoadGuarded(strategy(), {path, fixtures::Format::kPickle, "cpu", ""}, &tensors);
    EXPECT_FALSE(s.ok()) << path << " loaded";
    EXPECT_NE(s.error_class(), ErrorClass::kInternal) << path << ": " << s.ToString();
  }
}

TEST_P(Conformance, LeavesNoFilesBehind) {
  const fixtures::Fixture f = MakeFixture(fixtures::Format::kPickle, "cpu");
  const std::set<std::string> before_fixture = FilesIn(CacheDir());
  fixtures::NamedTensors tensors;
  LoadGuarded(strategy(), {f.checkpoint_path, fixtures::Format::kPickle, "cpu", ""}, &tensors);
  EXPECT_EQ(FilesIn(scratch_dir()), std::set<std::string>{}) << "left in $TMPDIR";
  EXPECT_EQ(FilesIn(CacheDir()), before_fixture) << "left beside the checkpoint";
}

std::vector<std::string> RegisteredStrategies() { return StrategyNames(); }

INSTANTIATE_TEST_SUITE_P(Strategies, Conformance, ::testing::ValuesIn(RegisteredStrategies()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name;
                           for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(ConformanceSuite, HasStrategiesToCheck) {
  EXPECT_FALSE(StrategyNames().empty()) << "no strategy is linked into this test";
}

}  // namespace
}  // namespace harness::strategy
