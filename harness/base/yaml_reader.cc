#include "harness/base/yaml_reader.h"

#include "harness/base/bytes.h"
#include "harness/base/files.h"

namespace harness {

void YamlReader::Fail(const YAML::Node& node, const std::string& what) const {
  const YAML::Mark m = node.Mark();
  // A node with no position (the null root of an empty file) is at 1:1.
  const int line = m.line < 0 ? 1 : m.line + 1, column = m.column < 0 ? 1 : m.column + 1;
  throw YamlError{path_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                  (node.IsNull() && m.line < 0 ? "the file is empty; " : "") + what};
}

void YamlReader::CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
                           const std::string& where) const {
  if (!map.IsMap()) Fail(map, where + " must be a mapping");
  for (const auto& kv : map) {
    const std::string key = Str(kv.first, "key");
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(kv.first, "unknown key '" + key + "' in " + where + " (allowed: " + list + ")");
    }
  }
}

std::string YamlReader::Str(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar()) Fail(node, what + " must be a string");
  return node.as<std::string>();
}

int YamlReader::Int(const YAML::Node& node, const std::string& what) const {
  try {
    if (node.IsScalar()) return node.as<int>();
  } catch (const YAML::Exception&) {
  }
  Fail(node, what + " must be an integer");
}

bool YamlReader::Bool(const YAML::Node& node, const std::string& what) const {
  try {
    if (node.IsScalar()) return node.as<bool>();
  } catch (const YAML::Exception&) {
  }
  Fail(node, what + " must be true or false");
}

int64_t YamlReader::ByteSize(const YAML::Node& node, const std::string& what) const {
  const std::string text = Str(node, what);
  std::optional<int64_t> bytes = ParseByteSize(text);
  if (!bytes) Fail(node, what + " '" + text + "' is not like 64KiB");
  return *bytes;
}

namespace {

void CheckNoDuplicateKeys(const YamlReader& reader, const YAML::Node& node,
                          std::set<std::pair<int, int>>* visited) {
  if (!visited->insert({node.Mark().line, node.Mark().column}).second) return;  // an alias, or seen
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) CheckNoDuplicateKeys(reader, item, visited);
  } else if (node.IsMap()) {
    std::set<std::string> keys;
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && !keys.insert(kv.first.Scalar()).second) {
        reader.Fail(kv.first, "duplicate key '" + kv.first.Scalar() + "'");
      }
      CheckNoDuplicateKeys(reader, kv.second, visited);
    }
  }
}

}  // namespace

void CheckNoDuplicateKeys(const YamlReader& reader, const YAML::Node& node) {
  std::set<std::pair<int, int>> visited;
  CheckNoDuplicateKeys(reader, node, &visited);
}

Result<std::string> ReadTextFile(const std::string& path, int64_t max_bytes) {
  Result<std::string> text = ReadRegularFile(path, max_bytes);
  // Too large: a scenario mistake (or an attack), told at the file's start.
  if (!text.ok() && text.status().error_class() == ErrorClass::kInvalidArgument) {
    const std::string& said = text.status().message();
    return Status(ErrorClass::kInvalidScenario,
                  path + ":1:1: " + said.substr(said.find(": ") + 2) + "; YAML files here are limited to " +
                      HumanBytes(max_bytes));
  }
  return text;
}

}  // namespace harness
