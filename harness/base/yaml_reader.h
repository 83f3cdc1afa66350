// Reading YAML files with every error at file:line:column: the one YAML
// error boundary of the harness, shared by scenario files and fixture specs.
//
//   Result<Spec> spec = ParseYamlFile<Spec>(path, [](const YamlReader& in, const YAML::Node& root) {
//     in.CheckKeys(root, {"size", "seed"}, "fixture");
//     Spec s;
//     s.size = in.ByteSize(root["size"], "size");   // "64KiB"
//     return s;
//   });
//   // error: kInvalidScenario "spec.yaml:3:7: size '12XB' is not like 64KiB"
//
// Inside `parse`, YamlReader's checks throw YamlError; ParseYaml turns that,
// and yaml-cpp's own exceptions, into kInvalidScenario with the position.
#ifndef HARNESS_BASE_YAML_READER_H_
#define HARNESS_BASE_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "harness/base/status.h"

namespace harness {

// Thrown by YamlReader; carries "path:line:column: what".
struct YamlError {
  std::string message;
};

// Typed access to one file's nodes; each failure names the node's position.
class YamlReader {
 public:
  explicit YamlReader(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& what) const;
  // Fails at the first key of `map` that is not in `allowed`, listing them.
  void CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) const;
  std::string Str(const YAML::Node& node, const std::string& what) const;
  int Int(const YAML::Node& node, const std::string& what) const;
  bool Bool(const YAML::Node& node, const std::string& what) const;
  // "64KiB", "1.5MiB", "2GiB", "100B", "4096".
  int64_t ByteSize(const YAML::Node& node, const std::string& what) const;

 private:
  std::string path_;
};

// Fails at the second occurrence of a key repeated in any mapping under
// `node` (YAML forbids them; yaml-cpp would silently use the first). Each
// node is visited once, so aliases cannot make the walk explode.
void CheckNoDuplicateKeys(const YamlReader& reader, const YAML::Node& node);

// Parses `text` and hands its root to `parse`. Any YamlError or yaml-cpp
// exception becomes kInvalidScenario at path:line:column.
template <typename T>
Result<T> ParseYaml(const std::string& text, const std::string& path,
                    const std::function<T(const YamlReader&, const YAML::Node&)>& parse) {
  YamlReader reader(path);
  try {
    const YAML::Node root = YAML::Load(text);
    CheckNoDuplicateKeys(reader, root);
    return parse(reader, root);
  } catch (const YamlError& e) {
    return Status(ErrorClass::kInvalidScenario, e.message);
  } catch (const YAML::Exception& e) {
    // yaml-cpp says only "bad file" when it gives up on deep nesting.
    const std::string what = e.msg == "bad file" ? "the YAML cannot be parsed (nested too deeply?)" : e.msg;
    return Status(ErrorClass::kInvalidScenario, path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                                    std::to_string(e.mark.column + 1) + ": " + what);
  }
}

// The file's text: kIoError when it is missing, no regular file (a FIFO,
// a directory) or unreadable; kInvalidScenario when it is larger than
// `max_bytes` (scenario files and specs are small; a huge one is a mistake
// or an attack, refused before it is read).
inline constexpr int64_t kMaxYamlFileBytes = 1 << 20;
Result<std::string> ReadTextFile(const std::string& path, int64_t max_bytes = kMaxYamlFileBytes);

template <typename T>
Result<T> ParseYamlFile(const std::string& path, const std::function<T(const YamlReader&, const YAML::Node&)>& parse) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseYaml<T>(*text, path, parse);
}

}  // namespace harness

#endif  // HARNESS_BASE_YAML_READER_H_
