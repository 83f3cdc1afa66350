#include "harness/base/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness {
namespace {

using ::testing::HasSubstr;

struct Sized {
  int64_t size = 0;
  int count = 0;
};

Result<Sized> Parse(const std::string& text) {
  return ParseYaml<Sized>(text, "f.yaml", [](const YamlReader& in, const YAML::Node& root) {
    in.CheckKeys(root, {"size", "count"}, "top level");
    Sized s;
    if (root["size"]) s.size = in.ByteSize(root["size"], "size");
    if (root["count"]) s.count = in.Int(root["count"], "count");
    return s;
  });
}

TEST(ParseYamlTest, ReadsTypedValues) {
  Result<Sized> s = Parse("size: 64KiB\ncount: 3\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->size, 65536);
  EXPECT_EQ(s->count, 3);
}

TEST(ParseYamlTest, EveryErrorIsInvalidScenarioAtFileLineColumn) {
  const std::pair<const char*, const char*> kBad[] = {
      {"size: 12XB\n", "f.yaml:1:7: size '12XB' is not like 64KiB"},
      {"count: 2.5\n", "f.yaml:1:8: count must be an integer"},
      {"count: [1]\n", "f.yaml:1:8: count must be an integer"},
      {"\nsizes: 1\n", "f.yaml:2:1: unknown key 'sizes' in top level (allowed: count, size)"},
      {"- 1\n", "f.yaml:1:1: top level must be a mapping"},
      {"size: [1\n", "f.yaml:2:1: end of sequence flow not found"},
  };
  for (const auto& [text, message] : kBad) {
    Result<Sized> s = Parse(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().error_class(), ErrorClass::kInvalidScenario) << text;
    EXPECT_EQ(s.status().message(), message) << text;
  }
}

TEST(ReadTextFileTest, MissingFileIsIoError) {
  Result<std::string> r = ReadTextFile("/nonexistent/f.yaml");
  EXPECT_EQ(r.status().error_class(), ErrorClass::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/f.yaml"));
}

}  // namespace
}  // namespace harness
