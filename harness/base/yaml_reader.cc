#include "harness/base/yaml_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/base/bytes.h"

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
  // Opened without blocking and checked through the descriptor: a FIFO or a
  // device is refused, and nothing can be swapped in between.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status(ErrorClass::kIoError, path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat info;
  if (fstat(fd, &info) != 0) return Status(ErrorClass::kIoError, path + ": " + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return Status(ErrorClass::kIoError, path + ": is a directory");
  if (!S_ISREG(info.st_mode)) return Status(ErrorClass::kIoError, path + ": not a regular file");
  const auto too_large = [&](int64_t bytes) {
    return Status(ErrorClass::kInvalidScenario, path + ":1:1: the file is " + HumanBytes(bytes) +
                                                    "; YAML files here are limited to " + HumanBytes(max_bytes));
  };
  if (info.st_size > max_bytes) return too_large(info.st_size);
  // Read at most one byte past the limit: st_size may not tell (a file that grows).
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status(ErrorClass::kIoError, path + ": cannot be read: " + std::strerror(errno));
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
    if (static_cast<int64_t>(text.size()) > max_bytes) return too_large(static_cast<int64_t>(text.size()));
  }
  return text;
}

}  // namespace harness
