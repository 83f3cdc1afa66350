#include "harness/scenario/scenario.h"

#include <gtest/gtest.h>

#include "harness/strategy/strategy.h"

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
  EXPECT_EQ((*cases)[2].expect.transfers.count("host_to_device"), 1u);
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
      {"fixture: {placement: tpu:0}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: {outcome: {map_location: [ok]}}\n",
       "x.yaml:1:10: placement 'tpu:0' is not cpu, cuda:K or split:N"},
      {"fixture: {size: lots}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: {outcome: {map_location: [ok]}}\n",
       "x.yaml:1:17: size 'lots' is not like 64KiB"},
      {"fixture: {}\ntarget: cpu\nenvironments: [quad-tpu]\nstrategies: [map_location]\nexpect: {outcome: {map_location: [ok]}}\n",
       "x.yaml:3:16: unknown environment preset 'quad-tpu'"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu, dual-gpu]\nstrategies: [map_location]\nexpect: {outcome: {map_location: [ok]}}\n",
       "x.yaml:5:34: outcome row for 'map_location' must list 2 outcomes, one per environment"},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location]\nexpect: {outcome: {map_location: [explodes]}}\n",
       "x.yaml:5:35: unknown outcome 'explodes'"},
      {"fixture: [unclosed\n", "x.yaml:2:1: "},
      {"fixture: {}\ntarget: cpu\nenvironments: [missing-gpu]\nstrategies: [map_location, map_location]\nexpect: {outcome: {map_location: [ok]}}\n",
       "x.yaml:4:28: strategy 'map_location' listed twice"},
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
    std::vector<std::string> known = strategy::StrategyNames();
    auto cases = LoadScenarioFile(f, &known);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  }
}

}  // namespace
}  // namespace harness::scenario
