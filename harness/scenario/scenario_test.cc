#include "harness/scenario/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace harness::scenario {
namespace {

constexpr char kValid[] = R"(fixture: {format: pickle, size: 64KiB, placement: cuda:1}
target: cpu
environments: [missing-gpu, dual-gpu]
strategies: [load_then_to, map_location]
expect:
  outcome:
    load_then_to: [cuda-unavailable, ok]
    map_location: [ok, ok]
  transfers:
    map_location: {host_to_device: 0}
xfail:
  load_then_to@dual-gpu: demo
)";

TEST(ParseScenario, TruthTableBecomesOneCasePerCell) {
  auto cases = ParseScenario(kValid, "scenarios/demo.yaml");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  ASSERT_EQ(cases->size(), 4u);
  EXPECT_EQ((*cases)[0].id, "demo/load_then_to@missing-gpu");
  EXPECT_EQ((*cases)[0].expect.outcome, ErrorClass::kCudaUnavailable);
  EXPECT_EQ((*cases)[1].expect.xfail.value_or(""), "demo");
  EXPECT_EQ((*cases)[2].expect.transfers.count(recorder::Direction::kHostToDevice), 1u);
  EXPECT_EQ((*cases)[3].fixture.total_bytes, 64 << 10);
}

struct BadInput {
  const char* text;
  const char* error;  // expected message, "file:line:column: ..."
};

TEST(ParseScenario, MalformedFilesNameLineAndColumn) {
  const BadInput kBad[] = {
      {"fixture: {placement: cpu}\ntarget: cpu\nenviroments: [missing-gpu]\n",
       "x.yaml:3:1: unknown key 'enviroments' in scenario"},
      {"fixture: {placement: tpu:0}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: "
       "{outcome: {map_location: [ok]}}\n",
       "x.yaml:1:10: placement 'tpu:0' is not cpu, cuda:K or split:N"},
      {"fixture: {size: lots}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: {outcome: "
       "{map_location: [ok]}}\n",
       "x.yaml:1:17: size 'lots' is not like 64KiB"},
      {"fixture: {}\ntarget: cpu\nenvironments: [quad-tpu]\nstrategies: [map_location]\nexpect: {outcome: "
       "{map_location: [ok]}}\n",
       "x.yaml:3:16: unknown environment preset 'quad-tpu'"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu, dual-gpu]\nstrategies: [map_location]\nexpect: {outcome: "
       "{map_location: [ok]}}\n",
       "x.yaml:5:34: outcome row for 'map_location' must list 2 outcomes, one per environment"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: {outcome: "
       "{map_location: [explodes]}}\n",
       "x.yaml:5:35: unknown outcome 'explodes'"},
      {"fixture: [unclosed\n", "x.yaml:2:1: "},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location, map_location]\nexpect: "
       "{outcome: {map_location: [ok]}}\n",
       "x.yaml:4:28: strategy 'map_location' listed twice"},
      {"fixture: {}\ntarget: cuda:x\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\n",
       "x.yaml:2:9: target: invalid device 'cuda:x': device index 'x' is not a non-negative decimal integer"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\nxfail: "
       "{m@dual-gpu: why}\n",
       "x.yaml:6:9: xfail 'm@dual-gpu' matches no cell (strategy@environment)"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\ntimeout: "
       "0\n",
       "x.yaml:6:10: timeout must be in [1, 86400] seconds"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\ntimeout: "
       "3000000\n",
       "x.yaml:6:10: timeout must be in [1, 86400] seconds"},
      {"fixture: {}\ntarget: cpu\ntarget: cuda:0\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: "
       "[ok]}}\n",
       "x.yaml:3:1: duplicate key 'target'"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok], m: [ok]}}\n",
       "x.yaml:5:29: duplicate key 'm'"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu, single-gpu, missing-gpu]\nstrategies: [m]\nexpect: "
       "{outcome: {m: [ok, ok, ok]}}\n",
       "x.yaml:3:41: environment 'missing-gpu' is listed twice"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\nrequires: "
       "{torch: x.y}\n",
       "x.yaml:6:19: torch must be a version like 2.0 or 1.13.1, got 'x.y'"},
      {"fixture: {golden: ../../etc/passwd}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: "
       "{outcome: {m: [ok]}}\n",
       "x.yaml:1:19: golden must name a file in fixtures/golden/"},
      {"fixture: {}\ntarget: cpu\nenvironments: [{cuda: broken}]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}}\n",
       "x.yaml:3:23: cuda must be ok, hidden, no-driver, no-device or old-driver"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [m]\nexpect: {outcome: {m: [ok]}, "
       "transfers: {m: {h2d: 0}}}\n",
       "x.yaml:5:46: unknown transfer direction 'h2d'"},
  };
  for (const BadInput& bad : kBad) {
    auto r = ParseScenario(bad.text, "x.yaml");
    ASSERT_FALSE(r.ok()) << bad.text;
    EXPECT_EQ(r.status().error_class(), ErrorClass::kInvalidScenario);
    EXPECT_EQ(r.status().message().rfind(bad.error, 0), 0u) << r.status().message();
  }
}

TEST(ParseScenario, IntegrityPerStrategyAppliesToThatStrategyOnly) {
  auto r = ParseScenario(
      "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [a, b, c]\n"
      "expect:\n  outcome: {a: [ok], b: [ok], c: [ok]}\n  integrity: {a: values, c: none}\n",
      "x.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)[0].expect.integrity);
  EXPECT_FALSE((*r)[0].expect.sharing);
  EXPECT_TRUE((*r)[1].expect.integrity);
  EXPECT_TRUE((*r)[1].expect.sharing);
  EXPECT_FALSE((*r)[2].expect.integrity);
}

TEST(ParseScenario, UnknownStrategyIsNamedWithWhatIsLinkedIn) {
  std::vector<std::string> known = {"map_location"};
  auto r = ParseScenario(
      "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [mapp_location]\n"
      "expect: {outcome: {mapp_location: [ok]}}\n",
      "x.yaml", &known);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "x.yaml:4:14: unknown strategy 'mapp_location' (linked in: map_location; or define it under commands:)");
}

TEST(ParseScenario, CommandsDefineExternalStrategies) {
  std::vector<std::string> known = {};
  auto r = ParseScenario(
      "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [py]\n"
      "commands: {py: \"{python} load.py {checkpoint}\"}\nexpect: {outcome: {py: [ok]}}\n",
      "x.yaml", &known);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].command, "{python} load.py {checkpoint}");
}

TEST(ScenarioFiles, EveryShippedFileValidatesAndNamesLinkedStrategies) {
  std::vector<std::string> files = FindScenarioFiles({"scenarios"});
  ASSERT_GE(files.size(), 3u);
  for (const std::string& f : files) {
    // The strategies the replay binaries link in (//harness/strategy:builtin).
    const std::vector<std::string> known = {"cpu_then_to", "load_then_to", "map_location", "remap", "state_dict",
                                             "zero_copy"};
    auto cases = LoadScenarioFile(f, &known);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  }
}

TEST(ShardTest, EveryCaseOfTheShippedScenariosIsInExactlyOneShard) {
  std::vector<std::string> ids;
  for (const std::string& f : FindScenarioFiles({"scenarios"})) {
    auto cases = LoadScenarioFile(f);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
    for (const Case& c : *cases) ids.push_back(c.id);
  }
  ASSERT_GT(ids.size(), 100u);
  for (int count : {1, 2, 3, 4, 7}) {
    std::vector<int> sizes(count, 0);
    for (const std::string& id : ids) {
      int owners = 0;
      for (int index = 0; index < count; ++index) {
        if (InShard(id, {index, count})) {
          ++owners;
          ++sizes[index];
        }
      }
      EXPECT_EQ(owners, 1) << id << " in " << owners << " of " << count << " shards";
    }
    // Roughly even: no shard gets less than a third of its share (with 141
    // cases in 7 shards, chance alone leaves one with half its share).
    for (int size : sizes) EXPECT_GE(size * count * 3, int(ids.size())) << count << " shards";
  }
}

// The partition is part of the interface (CI jobs split runs by it): these
// values were computed by a separate copy of the hash (FNV-1a, then
// splitmix64's finalizer); they change only with the hash, which would move
// every case.
TEST(ShardTest, ThePartitionIsStableAcrossBuildsAndMachines) {
  const std::pair<const char*, int> kPinned[] = {
      {"mismatched_index/load_then_to@single-gpu", 2},
      {"c1_missing_gpu/py_map_location@missing-gpu", 0},
      {"saved_on_cpu/remap@dual-gpu", 0},
  };
  for (const auto& [id, shard] : kPinned) {
    for (int index = 0; index < 4; ++index) EXPECT_EQ(InShard(id, {index, 4}), index == shard) << id;
  }
  EXPECT_TRUE(InShard("anything", {0, 1}));
}

TEST(ShardTest, ParsesKOfN) {
  EXPECT_EQ(ParseShard("2/4")->index, 1);
  EXPECT_EQ(ParseShard("2/4")->count, 4);
  for (const char* bad : {"0/4", "5/4", "2", "a/b", "2/4x", "-1/2", "1/0", ""}) {
    EXPECT_EQ(ParseShard(bad).status().error_class(), ErrorClass::kInvalidArgument) << bad;
  }
}

TEST(HardwarePart, FollowsTheEnvironmentAndTheCommand) {
  auto cases = ParseScenario(
      "fixture: {}\ntarget: cpu\nenvironments: [missing-gpu, single-gpu, dual-gpu, old-driver, cuda-hidden]\n"
      "strategies: [m, py, script]\ncommands: {py: \"{python} x.py\", script: \"/opt/bin/python3.11 y.py\"}\n"
      "expect: {outcome: {m: [ok, ok, ok, ok, ok], py: [ok, ok, ok, ok, ok], script: [ok, ok, ok, ok, ok]}}\n",
      "x.yaml");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  std::vector<std::string> parts;
  for (const Case& c : *cases) parts.push_back(HardwarePart(c));
  const std::vector<std::string> expected = {
      "cpu",        "gpu",        "multi_gpu",        "driver_fault",        "driver_fault",
      "cpu_python", "gpu_python", "multi_gpu_python", "driver_fault_python", "driver_fault_python",
      "cpu_python", "gpu_python", "multi_gpu_python", "driver_fault_python", "driver_fault_python",
  };
  EXPECT_EQ(parts, expected);

  Case c = (*cases)[0];
  c.requires.min_gpus = 2;  // `requires: {gpus: 2}` on a CPU-only environment still needs the GPUs
  EXPECT_EQ(HardwarePart(c), "multi_gpu");
  c.command = "env PYTHONPATH=. python3 loader/load.py";  // a launcher before Python
  EXPECT_EQ(HardwarePart(c), "multi_gpu_python");
  c.command = "./pythonic_loader --x";  // a program that is not Python
  c.requires.min_gpus = 0;
  EXPECT_EQ(HardwarePart(c), "cpu");
}

TEST(HardwarePart, EveryShippedCaseIsInOneGeneratedPart) {
  const std::vector<std::string> parts = HardwareParts();
  ASSERT_EQ(parts.size(), 8u);
  std::map<std::string, int> cells;
  for (const std::string& f : FindScenarioFiles({"scenarios"})) {
    auto cases = LoadScenarioFile(f);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
    for (const Case& c : *cases) {
      const std::string part = HardwarePart(c);
      EXPECT_NE(std::find(parts.begin(), parts.end(), part), parts.end()) << c.id << ": " << part;
      ++cells[part];
    }
  }
  for (const auto& [part, count] : cells) std::printf("%-20s %d cells\n", part.c_str(), count);
  EXPECT_GT(cells["cpu"], 0);
  EXPECT_GT(cells["gpu"], 0);
  EXPECT_GT(cells["multi_gpu_python"], 0);
}

TEST(CommandFiles, RelativePathsThatAreNeitherPlaceholdersNorOptions) {
  EXPECT_EQ(CommandFiles("{python} loader/load.py {checkpoint} {target}"), std::vector<std::string>{"loader/load.py"});
  EXPECT_EQ(CommandFiles("./bin/my_loader --config 'conf/a.yaml' --out=/tmp/x {checkpoint}"),
            (std::vector<std::string>{"./bin/my_loader", "conf/a.yaml"}));
  EXPECT_EQ(CommandFiles("/usr/bin/python3 -c 'import torch' {checkpoint}"), std::vector<std::string>{});
  // Shell words that are no runfiles: redirections, variables, home
  // folders, URLs, and everything after -c.
  EXPECT_EQ(CommandFiles("$HOME/x.py ~/bin/y 2>/dev/null https://h/p loader/a.py -c 'run b/c.py'"),
            std::vector<std::string>{"loader/a.py"});
}

env::HostFacts CpuLegHost() {
  env::HostFacts host;
  host.virtual_cuda_linked = true;
  host.torch_version = "1.13.1";
  return host;
}

TEST(SkipReason, RequiresAndEnvironmentsAgainstTheHost) {
  auto cases = ParseScenario(
      "fixture: {}\ntarget: cpu\nenvironments: [single-gpu, old-driver]\nstrategies: [m, py]\n"
      "commands: {py: \"{python} x.py\"}\nexpect: {outcome: {m: [ok, ok], py: [ok, ok]}}\n",
      "x.yaml");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  const env::HostFacts host = CpuLegHost();
  EXPECT_EQ(SkipReason((*cases)[0], env::Backend::kVirtual, host), "");
  EXPECT_EQ(SkipReason((*cases)[1], env::Backend::kVirtual, host),
            "virtual devices do not simulate old-driver; the real backend (CUDA leg) injects it");
  EXPECT_EQ(SkipReason((*cases)[2], env::Backend::kVirtual, host),
            "needs 1 GPU(s), host has 0 (the virtual CUDA runtime, harness/env/virtual_runtime, was not found)");
  env::HostFacts with_runtime = host;
  with_runtime.virtual_cuda_runtime = "/lib/libharness_virtual_cuda.so";
  EXPECT_EQ(SkipReason((*cases)[2], env::Backend::kVirtual, with_runtime), "");
  Case c = (*cases)[0];
  Case big = c;
  env::HostFacts small_host = host;
  small_host.memory_available_bytes = int64_t(24) << 30;
  big.fixture.total_bytes = int64_t(12) << 30;
  EXPECT_EQ(SkipReason(big, env::Backend::kVirtual, small_host), "");
  big.fixture.total_bytes = int64_t(13) << 30;  // with its serialized copy, more than the host has
  EXPECT_EQ(SkipReason(big, env::Backend::kVirtual, small_host),
            "a 13.00 GiB fixture needs about twice that in host memory; this host has 24.00 GiB available");
  c.requires.torch_min = "2.0";
  EXPECT_EQ(SkipReason(c, env::Backend::kVirtual, host), "requires LibTorch >= 2.0");
  c.requires.torch_min = "1.13";
  EXPECT_EQ(SkipReason(c, env::Backend::kVirtual, host), "");
  c.requires.torch_min = "1";
  EXPECT_EQ(SkipReason(c, env::Backend::kVirtual, host), "");
  c.requires.torch_min = "2";
  EXPECT_EQ(SkipReason(c, env::Backend::kVirtual, host), "requires LibTorch >= 2");
  c.requires.torch_min = "1.13";
  c.requires.cuda_build = true;
  EXPECT_EQ(SkipReason(c, env::Backend::kVirtual, host), "requires a CUDA build of LibTorch");
  c.requires.cuda_build.reset();
  c.requires.torch_min.clear();
  c.requires.min_gpus = 2;
  EXPECT_EQ(SkipReason(c, env::Backend::kReal, host), "requires 2 GPU(s)");
}

}  // namespace
}  // namespace harness::scenario
