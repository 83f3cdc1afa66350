#include "harness/scenario/scenario.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "harness/base/bytes.h"
#include "harness/base/device.h"
#include "harness/base/files.h"
#include "harness/base/yaml_reader.h"

namespace harness::scenario {
namespace {

// A case may wait this long at most (a day): larger values are typos, and
// would overflow the millisecond timers below them.
constexpr int kMaxTimeoutSeconds = 24 * 3600;
// A file's truth table may have this many cells at most: enough for any
// real matrix, and a bound on what validating a hostile file costs.
constexpr size_t kMaxCellsPerFile = 10000;

using recorder::Direction;

// The whole file as read, before it becomes cases.
struct Table {
  fixtures::FixtureSpec fixture;
  std::string target;
  std::vector<env::EnvironmentSpec> environments;
  std::vector<std::string> strategies;
  std::map<std::string, std::string> commands;
  std::string device_map;
  Requires requires;
  double timeout_seconds = 120;
  std::string claim_id, claim_text;
};

class Parser {
 public:
  Parser(const YamlReader& in, const std::vector<std::string>* known) : in_(in), known_(known) {}

  std::vector<Case> File(const YAML::Node& root) const {
    in_.CheckKeys(root,
                  {"description", "claim", "fixture", "target", "environments", "strategies", "expect", "xfail",
                   "requires", "timeout", "commands", "remap"},
                  "scenario");
    for (const char* key : {"fixture", "target", "environments", "strategies", "expect"}) {
      if (!root[key]) in_.Fail(root, std::string("missing required key '") + key + "'");
    }
    const Table table = ReadTable(root);
    const YAML::Node expect = root["expect"];
    in_.CheckKeys(expect, {"outcome", "transfers", "peak", "integrity", "placement"}, "expect");
    if (!expect["outcome"]) in_.Fail(expect, "expect needs an outcome table");
    const std::set<std::string> strategy_set(table.strategies.begin(), table.strategies.end());
    in_.CheckKeys(expect["outcome"], strategy_set, "expect.outcome");
    for (const char* per_strategy : {"transfers", "peak"}) {
      if (expect[per_strategy]) in_.CheckKeys(expect[per_strategy], strategy_set, per_strategy);
    }
    if (expect["integrity"] && expect["integrity"].IsMap())
      in_.CheckKeys(expect["integrity"], strategy_set, "integrity");
    const YAML::Node xfail = root["xfail"];
    if (xfail && !xfail.IsMap()) in_.Fail(xfail, "xfail must map 'strategy@environment' to a reason");

    std::string stem = in_.path().substr(in_.path().find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));
    std::vector<Case> cases;
    for (const std::string& strategy : table.strategies) {
      const YAML::Node row = expect["outcome"][strategy];
      if (!row) in_.Fail(expect["outcome"], "no outcome row for strategy '" + strategy + "'");
      if (!row.IsSequence() || row.size() != table.environments.size()) {
        in_.Fail(row, "outcome row for '" + strategy + "' must list " + std::to_string(table.environments.size()) +
                          " outcomes, one per environment");
      }
      const verdict::Expectation shared = StrategyExpectation(expect, strategy);
      for (size_t i = 0; i < table.environments.size(); ++i) {
        Case c;
        c.file = in_.path();
        c.fixture = table.fixture;
        c.environment = table.environments[i];
        c.strategy = strategy;
        auto command = table.commands.find(strategy);
        if (command != table.commands.end()) c.command = command->second;
        c.device_map = table.device_map;
        c.target = table.target;
        c.requires = table.requires;
        c.timeout_seconds = table.timeout_seconds;
        c.claim_id = table.claim_id;
        c.claim_text = table.claim_text;
        const std::string cell = strategy + "@" + c.environment.name;
        c.id = stem + "/" + cell;
        c.expect = shared;
        c.expect.outcome = Outcome(row[i]);
        if (xfail && xfail[cell]) c.expect.xfail = in_.Str(xfail[cell], "reason");
        cases.push_back(std::move(c));
      }
    }
    if (xfail) {
      for (const auto& kv : xfail) {
        const std::string cell = in_.Str(kv.first, "xfail cell");
        const bool matches = std::any_of(cases.begin(), cases.end(),
                                         [&](const Case& c) { return c.strategy + "@" + c.environment.name == cell; });
        if (!matches) in_.Fail(kv.first, "xfail '" + cell + "' matches no cell (strategy@environment)");
      }
    }
    return cases;
  }

 private:
  Table ReadTable(const YAML::Node& root) const {
    Table t;
    t.fixture = fixtures::ParseFixtureSpec(in_, root["fixture"]);
    t.target = in_.Str(root["target"], "target");
    const Result<Device> target = ParseDevice(t.target);
    if (!target.ok()) in_.Fail(root["target"], "target: " + target.status().message());
    if (!root["environments"].IsSequence()) in_.Fail(root["environments"], "environments must be a list");
    if (root["environments"].size() > kMaxCellsPerFile) {
      in_.Fail(root["environments"], "more than " + std::to_string(kMaxCellsPerFile) + " environments; split the file");
    }
    std::set<std::string> names;
    for (const auto& e : root["environments"]) {
      t.environments.push_back(Environment(e));
      if (!names.insert(t.environments.back().name).second) {
        in_.Fail(e, "environment '" + t.environments.back().name +
                        "' is listed twice (each cell needs its own name: give the second a `name:`)");
      }
    }
    t.strategies = Strategies(root);
    if (t.strategies.size() * t.environments.size() > kMaxCellsPerFile) {
      in_.Fail(root["strategies"], std::to_string(t.strategies.size()) + " strategies x " +
                                       std::to_string(t.environments.size()) + " environments is more than " +
                                       std::to_string(kMaxCellsPerFile) + " cells; split the file");
    }
    if (const YAML::Node commands = root["commands"]) {
      if (!commands.IsMap()) in_.Fail(commands, "commands must map a strategy name to a command line");
      for (const auto& kv : commands) t.commands[in_.Str(kv.first, "strategy")] = in_.Str(kv.second, "command");
    }
    CheckStrategiesKnown(root["strategies"], t.strategies, t.commands);
    if (root["remap"]) {
      t.device_map = in_.Str(root["remap"], "remap");
      const Status map = ParseDeviceMap(t.device_map).status();
      if (!map.ok()) in_.Fail(root["remap"], "remap: " + map.message());
    }
    if (const YAML::Node r = root["requires"]) {
      in_.CheckKeys(r, {"gpus", "cuda_build", "torch"}, "requires");
      if (r["gpus"]) t.requires.min_gpus = in_.Int(r["gpus"], "gpus");
      if (r["cuda_build"]) t.requires.cuda_build = in_.Bool(r["cuda_build"], "cuda_build");
      if (r["torch"]) {
        t.requires.torch_min = in_.Str(r["torch"], "torch");
        const std::string& v = t.requires.torch_min;
        const bool version = !v.empty() && v.front() != '.' && v.back() != '.' && v.find("..") == std::string::npos &&
                             v.find_first_not_of("0123456789.") == std::string::npos;
        if (!version) in_.Fail(r["torch"], "torch must be a version like 2.0 or 1.13.1, got '" + v + "'");
      }
    }
    if (root["timeout"]) {
      t.timeout_seconds = double(in_.Int(root["timeout"], "timeout"));
      if (t.timeout_seconds <= 0 || t.timeout_seconds > kMaxTimeoutSeconds) {
        in_.Fail(root["timeout"], "timeout must be in [1, " + std::to_string(kMaxTimeoutSeconds) + "] seconds");
      }
    }
    if (const YAML::Node claim = root["claim"]) {
      in_.CheckKeys(claim, {"id", "text"}, "claim");
      if (!claim["id"] || !claim["text"]) in_.Fail(claim, "claim needs id and text");
      t.claim_id = in_.Str(claim["id"], "id");
      t.claim_text = in_.Str(claim["text"], "text");
    }
    return t;
  }

  env::EnvironmentSpec Environment(const YAML::Node& n) const {
    if (n.IsScalar()) {
      std::optional<env::EnvironmentSpec> preset = env::EnvironmentPreset(n.as<std::string>());
      if (!preset) {
        in_.Fail(n, "unknown environment preset '" + n.as<std::string>() + "' (" + env::EnvironmentPresetList() + ")");
      }
      return *preset;
    }
    in_.CheckKeys(n, {"name", "preset", "gpus", "cuda", "visible_devices", "memory_per_gpu"}, "environment");
    env::EnvironmentSpec e;
    if (n["preset"]) e = Environment(n["preset"]);
    if (n["gpus"]) e.gpus = in_.Int(n["gpus"], "gpus");
    if (e.gpus < 0 || e.gpus > 16) in_.Fail(n, "gpus must be in [0, 16]");
    if (n["cuda"]) {
      std::optional<env::CudaState> s = env::CudaStateFromName(in_.Str(n["cuda"], "cuda"));
      if (!s) in_.Fail(n["cuda"], "cuda must be " + env::CudaStateList());
      e.cuda = *s;
    }
    if (n["visible_devices"]) e.visible_devices = in_.Str(n["visible_devices"], "visible_devices");
    if (n["memory_per_gpu"]) e.memory_per_gpu = in_.ByteSize(n["memory_per_gpu"], "memory_per_gpu");
    if (n["name"]) {
      e.name = in_.Str(n["name"], "name");
    } else if (e.name.empty()) {
      e.name = "gpus" + std::to_string(e.gpus) + "-" + std::string(env::CudaStateName(e.cuda));
    }
    return e;
  }

  std::vector<std::string> Strategies(const YAML::Node& root) const {
    const YAML::Node list = root["strategies"];
    if (!list.IsSequence()) in_.Fail(list, "strategies must be a list");
    std::vector<std::string> strategies;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string name = in_.Str(list[i], "strategy");
      if (std::find(strategies.begin(), strategies.end(), name) != strategies.end()) {
        in_.Fail(list[i], "strategy '" + name + "' listed twice");
      }
      strategies.push_back(std::move(name));
    }
    return strategies;
  }

  void CheckStrategiesKnown(const YAML::Node& list, const std::vector<std::string>& strategies,
                            const std::map<std::string, std::string>& commands) const {
    if (known_ == nullptr) return;
    for (size_t i = 0; i < strategies.size(); ++i) {
      if (commands.count(strategies[i]) || std::find(known_->begin(), known_->end(), strategies[i]) != known_->end()) {
        continue;
      }
      std::string linked;
      for (const auto& k : *known_) linked += (linked.empty() ? "" : ", ") + k;
      in_.Fail(list[i],
               "unknown strategy '" + strategies[i] + "' (linked in: " + linked + "; or define it under commands:)");
    }
  }

  ErrorClass Outcome(const YAML::Node& n) const {
    const std::string outcome = in_.Str(n, "outcome");
    std::optional<ErrorClass> cls = ErrorClassFromName(outcome);
    if (!cls) in_.Fail(n, "unknown outcome '" + outcome + "'");
    return *cls;
  }

  // What `strategy`'s cells expect besides their outcome: integrity,
  // placement, transfer and peak bounds.
  verdict::Expectation StrategyExpectation(const YAML::Node& expect, const std::string& strategy) const {
    verdict::Expectation e;
    if (const YAML::Node in = expect["integrity"]) {
      // "exact" (values and view sharing), "values" (sharing may break),
      // "none"; a scalar for every strategy or a map per strategy. No
      // YAML::Node reassignment here: yaml-cpp's operator= writes through
      // to the document.
      const YAML::Node chosen = in.IsMap() ? in[strategy] : in;
      if (chosen) {
        const std::string mode = in_.Str(chosen, "integrity");
        if (mode != "exact" && mode != "values" && mode != "none") {
          in_.Fail(chosen, "integrity must be exact, values or none");
        }
        e.integrity = mode != "none";
        e.sharing = mode == "exact";
      }
    }
    if (const YAML::Node placement = expect["placement"]) {
      const std::string mode = in_.Str(placement, "placement");
      if (mode != "target" && mode != "any") in_.Fail(placement, "placement must be target or any");
      e.placement = mode == "target";
    }
    if (const YAML::Node t = expect["transfers"]; t && t[strategy]) {
      for (const auto& [key, bound] : BoundsOf(t[strategy], "transfers")) {
        const std::optional<Direction> d = recorder::DirectionFromName(in_.Str(key, "direction"));
        if (!d) in_.Fail(key, "unknown transfer direction '" + key.as<std::string>() + "'");
        e.transfers[*d] = bound;
      }
    }
    if (const YAML::Node p = expect["peak"]; p && p[strategy]) {
      for (const auto& [key, bound] : BoundsOf(p[strategy], "peak")) {
        const std::string device = in_.Str(key, "device");
        const Result<Device> parsed = ParseDevice(device);
        if (!parsed.ok() || (parsed->is_cuda() && parsed->index < 0)) {
          in_.Fail(key, "peak device '" + device + "' is not cpu or cuda:K");
        }
        e.peak[device] = bound;
      }
    }
    return e;
  }

  std::vector<std::pair<YAML::Node, verdict::ByteBound>> BoundsOf(const YAML::Node& map,
                                                                  const std::string& table) const {
    if (!map.IsMap()) in_.Fail(map, table + " bounds must be a mapping");
    std::vector<std::pair<YAML::Node, verdict::ByteBound>> bounds;
    for (const auto& kv : map) {
      const std::string text = in_.Str(kv.second, "bound");
      std::optional<verdict::ByteBound> b = verdict::ByteBound::Parse(text);
      if (!b) in_.Fail(kv.second, "bound '" + text + "' is not like 0, 1024, 1.0x, >=2x or <=0.5x");
      bounds.emplace_back(kv.first, *b);
    }
    return bounds;
  }

  const YamlReader& in_;
  const std::vector<std::string>* known_;
};

// "2.11.0" >= "2.0" (or "2"); a malformed minimum is never met.
bool VersionAtLeast(const std::string& version, const std::string& minimum) {
  int major = 0, minor = 0, want_major = 0, want_minor = 0;
  if (std::sscanf(minimum.c_str(), "%d.%d", &want_major, &want_minor) < 1) return false;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) < 1) return false;
  return major > want_major || (major == want_major && minor >= want_minor);
}

}  // namespace

Result<std::vector<Case>> ParseScenario(const std::string& text, const std::string& path,
                                        const std::vector<std::string>* known_strategies) {
  return ParseYaml<std::vector<Case>>(text, path, [&](const YamlReader& in, const YAML::Node& root) {
    return Parser(in, known_strategies).File(root);
  });
}

Result<std::vector<Case>> LoadScenarioFile(const std::string& path, const std::vector<std::string>* known_strategies) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseScenario(*text, path, known_strategies);
}

namespace {

// *.yaml under `dir`, depth first, each directory's entries in name order.
void CollectYaml(const std::string& dir, int depth, std::vector<std::string>* out) {
  Result<std::vector<std::string>> names = ListDirectory(dir);
  if (!names.ok() || depth > 32) return;
  for (const std::string& name : *names) {
    const std::string path = dir + "/" + name;
    if (IsDirectory(path)) {
      CollectYaml(path, depth + 1, out);
    } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0) {
      out->push_back(path);
    }
  }
}

}  // namespace

std::vector<std::string> FindScenarioFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    if (IsDirectory(p)) {
      const size_t before = files.size();
      CollectYaml(p, 0, &files);
      if (files.size() == before) files.push_back(p);  // none: LoadScenarioFile says "is a directory"
    } else {
      files.push_back(p);
    }
  }
  return files;
}

std::string SkipReason(const Case& c, env::Backend backend, const env::HostFacts& host) {
  if (c.requires.cuda_build.has_value() && *c.requires.cuda_build != host.torch_has_cuda) {
    return std::string("requires a ") + (*c.requires.cuda_build ? "CUDA" : "CPU-only") + " build of LibTorch";
  }
  if (!c.requires.torch_min.empty() && !VersionAtLeast(host.torch_version, c.requires.torch_min)) {
    return "requires LibTorch >= " + c.requires.torch_min;
  }
  // Generating a fixture holds its tensors and their serialized bytes.
  if (host.memory_available_bytes > 0 && c.fixture.total_bytes > host.memory_available_bytes / 2) {
    return "a " + HumanBytes(c.fixture.total_bytes) + " fixture needs about twice that in host memory; this host has " +
           HumanBytes(host.memory_available_bytes) + " available";
  }
  if (backend == env::Backend::kReal && c.requires.min_gpus > host.physical_gpus) {
    return "requires " + std::to_string(c.requires.min_gpus) + " GPU(s)";
  }
  std::string why;
  const bool can = c.command.empty() ? env::CanRealize(c.environment, backend, host, &why)
                                     : env::CanRealizeForProcess(c.environment, backend, host, &why);
  return can ? "" : why;
}

HardwareNeeds NeedsOf(const Case& c) {
  HardwareNeeds needs;
  needs.gpus = std::max(c.environment.ExpectedDeviceCount(), c.requires.min_gpus);
  needs.driver_fault = c.environment.cuda != env::CudaState::kOk;
  // The program: the first word that is neither VAR=value nor `env`.
  std::istringstream words(c.command);
  std::string program;
  while (words >> program && (program.find('=') != std::string::npos || program == "env" ||
                              program.substr(program.rfind('/') + 1) == "env")) {
  }
  const std::string program_name = program.substr(program.rfind('/') + 1);
  const bool python_program = program_name.rfind("python", 0) == 0 &&
                              program_name.find_first_not_of("0123456789.", 6) == std::string::npos;
  needs.python = c.command.find("{python}") != std::string::npos || python_program;
  return needs;
}

namespace {
// Indexed by GPUs seen (0, 1, 2 or more), then a driver fault.
constexpr const char* kDeviceParts[] = {"cpu", "gpu", "multi_gpu", "driver_fault"};
}  // namespace

std::string HardwarePart(const Case& c) {
  const HardwareNeeds needs = NeedsOf(c);
  const int device_part = needs.driver_fault ? 3 : std::min(needs.gpus, 2);  // an index into kDeviceParts
  return std::string(kDeviceParts[device_part]) + (needs.python ? "_python" : "");
}

std::vector<std::string> HardwareParts() {
  std::vector<std::string> parts(std::begin(kDeviceParts), std::end(kDeviceParts));
  for (const char* part : kDeviceParts) parts.push_back(std::string(part) + "_python");
  return parts;
}

std::vector<std::string> CommandFiles(const std::string& command) {
  std::vector<std::string> files;
  std::istringstream words(command);
  for (std::string word; words >> word;) {
    if (word == "-c") break;  // the rest is a program text (python -c '...'), not file names
    word.erase(std::remove(word.begin(), word.end(), '\''), word.end());
    word.erase(std::remove(word.begin(), word.end(), '"'), word.end());
    const bool relative_path = word.find('/') != std::string::npos && word[0] != '/' && word[0] != '-';
    // Placeholders, VAR=value, redirections, variables, home folders, URLs
    // and shell code are no runfiles to check.
    if (relative_path && word.find_first_of("{}=$~<>|:()`&;*?") == std::string::npos) files.push_back(word);
  }
  return files;
}

Result<Shard> ParseShard(const std::string& text) {
  int k = 0, n = 0;
  char rest = 0;
  if (std::sscanf(text.c_str(), "%d/%d%c", &k, &n, &rest) != 2 || n < 1 || n > 10000 || k < 1 || k > n) {
    return Status(ErrorClass::kInvalidArgument, "shard '" + text + "' is not K/N with 1 <= K <= N, e.g. 2/4");
  }
  return Shard{k - 1, n};
}

bool InShard(const std::string& id, const Shard& shard) {
  // FNV-1a, then splitmix64's finalizer so that similar ids spread evenly;
  // stable across builds and machines.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : id) hash = (hash ^ c) * 1099511628211ull;
  hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9ull;
  hash = (hash ^ (hash >> 27)) * 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return static_cast<int>(hash % static_cast<uint64_t>(shard.count)) == shard.index;
}

std::string TestName(const std::string& id) {
  std::string out;
  for (char ch : id) out.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  return out;
}

}  // namespace harness::scenario
