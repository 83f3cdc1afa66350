#include "harness/scenario/scenario.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "harness/compat/torch_compat.h"

namespace harness::scenario {
namespace {

// Thrown inside the parser only; converted to a Status at its entry point.
struct ParseError {
  std::string message;
};

class Parser {
 public:
  Parser(std::string path, const std::vector<std::string>* known)
      : path_(std::move(path)), known_(known) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& what) const {
    const YAML::Mark m = node.Mark();
    throw ParseError{path_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " + what};
  }

  void CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed, const char* where) const {
    if (!map.IsMap()) Fail(map, std::string(where) + " must be a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Fail(kv.first, "unknown key '" + key + "' in " + where + " (allowed: " + list + ")");
      }
    }
  }

  std::string Str(const YAML::Node& n, const char* what) const {
    if (!n.IsScalar()) Fail(n, std::string(what) + " must be a string");
    return n.as<std::string>();
  }

  int64_t Size(const YAML::Node& n) const {
    std::string s = Str(n, "size");
    int64_t mult = 1;
    for (const auto& [suffix, m] : std::vector<std::pair<std::string, int64_t>>{
             {"GiB", int64_t(1) << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}) {
      if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
        mult = m;
        s = s.substr(0, s.size() - suffix.size());
        break;
      }
    }
    try {
      size_t used = 0;
      double v = std::stod(s, &used);
      if (used != s.size() || v < 0) Fail(n, "size '" + n.as<std::string>() + "' is not like 64KiB");
      return int64_t(v * double(mult));
    } catch (const std::logic_error&) {
      Fail(n, "size '" + n.as<std::string>() + "' is not like 64KiB");
    }
  }

  fixtures::FixtureSpec Fixture(const YAML::Node& n) const {
    if (!n.IsMap()) Fail(n, "fixture must be a mapping");
    CheckKeys(n, {"format", "size", "layers", "seed", "placement", "provenance", "golden"}, "fixture");
    fixtures::FixtureSpec spec;
    if (n["format"]) {
      auto f = fixtures::FormatFromName(Str(n["format"], "format"));
      if (!f) Fail(n["format"], "format must be torchscript, cpp_archive or pickle");
      spec.format = *f;
    }
    if (n["size"]) spec.total_bytes = Size(n["size"]);
    if (n["layers"]) spec.layers = Int(n["layers"], "layers");
    if (n["seed"]) spec.seed = uint64_t(Int(n["seed"], "seed"));
    if (n["placement"]) spec.placement = Str(n["placement"], "placement");
    if (n["provenance"]) spec.provenance = Str(n["provenance"], "provenance");
    if (n["golden"]) {
      spec.golden = Str(n["golden"], "golden");
      for (const char* other : {"format", "size", "layers", "seed", "placement", "provenance"}) {
        if (n[other]) Fail(n[other], std::string("'") + other + "' does not apply to a golden fixture");
      }
    }
    Status valid = fixtures::ValidateSpec(spec);
    if (!valid.ok()) Fail(n, valid.message());
    return spec;
  }

  int Int(const YAML::Node& n, const char* what) const {
    try {
      return n.as<int>();
    } catch (const YAML::Exception&) {
      Fail(n, std::string(what) + " must be an integer");
    }
  }

  env::EnvironmentSpec Environment(const YAML::Node& n) const {
    if (n.IsScalar()) {
      auto preset = env::EnvironmentPreset(n.as<std::string>());
      if (!preset) Fail(n, "unknown environment preset '" + n.as<std::string>() +
                               "' (missing-gpu, cuda-hidden, no-device, old-driver, single-gpu, dual-gpu)");
      return *preset;
    }
    CheckKeys(n, {"name", "preset", "gpus", "cuda", "visible_devices", "memory_per_gpu"}, "environment");
    env::EnvironmentSpec e;
    if (n["preset"]) e = Environment(n["preset"]);
    if (n["gpus"]) e.gpus = Int(n["gpus"], "gpus");
    if (e.gpus < 0 || e.gpus > 16) Fail(n, "gpus must be in [0, 16]");
    if (n["cuda"]) {
      auto s = env::CudaStateFromName(Str(n["cuda"], "cuda"));
      if (!s) Fail(n["cuda"], "cuda must be ok, hidden, no-driver, no-device or old-driver");
      e.cuda = *s;
    }
    if (n["visible_devices"]) e.visible_devices = Str(n["visible_devices"], "visible_devices");
    if (n["memory_per_gpu"]) e.memory_per_gpu = Size(n["memory_per_gpu"]);
    e.name = n["name"] ? Str(n["name"], "name")
                       : (e.name.empty() ? "gpus" + std::to_string(e.gpus) + "-" + std::string(env::CudaStateName(e.cuda)) : e.name);
    return e;
  }

  verdict::ByteBound Bound(const YAML::Node& n) const {
    auto b = verdict::ByteBound::Parse(Str(n, "bound"));
    if (!b) Fail(n, "bound '" + n.as<std::string>() + "' is not like 0, 1024, 1.0x, >=2x or <=0.5x");
    return *b;
  }

  std::vector<Case> File(const YAML::Node& root) {
    CheckKeys(root, {"description", "claim", "fixture", "target", "environments", "strategies", "expect",
                     "xfail", "requires", "timeout", "commands", "remap"}, "scenario");
    for (const char* key : {"fixture", "target", "environments", "strategies", "expect"}) {
      if (!root[key]) Fail(root, std::string("missing required key '") + key + "'");
    }
    fixtures::FixtureSpec fixture = Fixture(root["fixture"]);
    std::string target = Str(root["target"], "target");
    if (target != "cpu" && target.rfind("cuda:", 0) != 0) Fail(root["target"], "target must be cpu or cuda:K");
    std::vector<env::EnvironmentSpec> envs;
    if (!root["environments"].IsSequence()) Fail(root["environments"], "environments must be a list");
    for (const auto& e : root["environments"]) envs.push_back(Environment(e));
    std::vector<std::string> strategies;
    if (!root["strategies"].IsSequence()) Fail(root["strategies"], "strategies must be a list");
    for (const auto& s : root["strategies"]) strategies.push_back(Str(s, "strategy"));
    std::map<std::string, std::string> commands;
    if (const YAML::Node cmds = root["commands"]) {
      if (!cmds.IsMap()) Fail(cmds, "commands must map a strategy name to a command line");
      for (const auto& kv : cmds) commands[kv.first.as<std::string>()] = Str(kv.second, "command");
    }
    std::string device_map;
    if (root["remap"]) device_map = Str(root["remap"], "remap");
    for (size_t i = 0; i < strategies.size(); ++i) {
      if (known_ != nullptr && !commands.count(strategies[i]) &&
          std::find(known_->begin(), known_->end(), strategies[i]) == known_->end()) {
        std::string list;
        for (const auto& k : *known_) list += (list.empty() ? "" : ", ") + k;
        Fail(root["strategies"][i], "unknown strategy '" + strategies[i] + "' (linked in: " + list +
                                        "; or define it under commands:)");
      }
      for (size_t j = 0; j < i; ++j) {
        if (strategies[i] == strategies[j]) Fail(root["strategies"][i], "strategy '" + strategies[i] + "' listed twice");
      }
    }

    const YAML::Node expect = root["expect"];
    CheckKeys(expect, {"outcome", "transfers", "peak", "integrity", "placement"}, "expect");
    if (!expect["outcome"]) Fail(expect, "expect needs an outcome table");
    CheckKeys(expect["outcome"], std::set<std::string>(strategies.begin(), strategies.end()), "expect.outcome");
    Requires req;
    if (const YAML::Node r = root["requires"]) {
      CheckKeys(r, {"gpus", "cuda_build", "torch"}, "requires");
      if (r["gpus"]) req.min_gpus = Int(r["gpus"], "gpus");
      if (r["cuda_build"]) req.cuda_build = r["cuda_build"].as<bool>();
      if (r["torch"]) req.torch_min = Str(r["torch"], "torch");
    }
    double timeout = root["timeout"] ? double(Int(root["timeout"], "timeout")) : 120.0;
    std::string claim_id, claim_text;
    if (const YAML::Node claim = root["claim"]) {
      CheckKeys(claim, {"id", "text"}, "claim");
      if (!claim["id"] || !claim["text"]) Fail(claim, "claim needs id and text");
      claim_id = Str(claim["id"], "id");
      claim_text = Str(claim["text"], "text");
    }
    std::string stem = path_.substr(path_.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));

    std::vector<Case> cases;
    for (const std::string& strategy : strategies) {
      const YAML::Node row = expect["outcome"][strategy];
      if (!row) Fail(expect["outcome"], "no outcome row for strategy '" + strategy + "'");
      if (!row.IsSequence() || row.size() != envs.size()) {
        Fail(row, "outcome row for '" + strategy + "' must list " + std::to_string(envs.size()) +
                      " outcomes, one per environment");
      }
      for (size_t i = 0; i < envs.size(); ++i) {
        Case c;
        c.file = path_;
        c.fixture = fixture;
        c.environment = envs[i];
        c.strategy = strategy;
        if (commands.count(strategy)) c.command = commands[strategy];
        c.device_map = device_map;
        c.target = target;
        c.requires = req;
        c.timeout_seconds = timeout;
        c.claim_id = claim_id;
        c.claim_text = claim_text;
        c.id = stem + "/" + strategy + "@" + envs[i].name;
        std::string outcome = Str(row[i], "outcome");
        auto cls = ErrorClassFromName(outcome);
        if (!cls) Fail(row[i], "unknown outcome '" + outcome + "'");
        c.expect.outcome = *cls;
        if (const YAML::Node in = expect["integrity"]) {
          // "exact" (values and view sharing), "values" (sharing may break),
          // "none"; a scalar for every strategy or a map per strategy.
          // No YAML::Node reassignment here: yaml-cpp's operator= writes
          // through to the document.
          std::string m = "exact";
          if (in.IsMap()) {
            CheckKeys(in, std::set<std::string>(strategies.begin(), strategies.end()), "integrity");
            if (in[strategy]) m = Str(in[strategy], "integrity");
          } else {
            m = Str(in, "integrity");
          }
          if (m != "exact" && m != "values" && m != "none") {
            Fail(in.IsMap() ? in[strategy] : in, "integrity must be exact, values or none");
          }
          c.expect.integrity = m != "none";
          c.expect.sharing = m == "exact";
        }
        if (expect["placement"]) c.expect.placement = Str(expect["placement"], "placement") == "target";
        for (const char* table : {"transfers", "peak"}) {
          const YAML::Node t = expect[table];
          if (!t) continue;
          CheckKeys(t, std::set<std::string>(strategies.begin(), strategies.end()), table);
          if (!t[strategy]) continue;
          if (!t[strategy].IsMap()) Fail(t[strategy], std::string(table) + " bounds must be a mapping");
          for (const auto& kv : t[strategy]) {
            std::string key = kv.first.as<std::string>();
            if (std::string(table) == "transfers" &&
                !std::set<std::string>{"host_to_device", "device_to_host", "device_to_device", "host_to_host"}.count(key)) {
              Fail(kv.first, "unknown transfer direction '" + key + "'");
            }
            (std::string(table) == "transfers" ? c.expect.transfers : c.expect.peak)[key] = Bound(kv.second);
          }
        }
        if (const YAML::Node x = root["xfail"]) {
          if (!x.IsMap()) Fail(x, "xfail must map 'strategy@environment' to a reason");
          if (x[strategy + "@" + envs[i].name]) c.expect.xfail = Str(x[strategy + "@" + envs[i].name], "reason");
        }
        cases.push_back(std::move(c));
      }
    }
    return cases;
  }

 private:
  std::string path_;
  const std::vector<std::string>* known_;
};

void CollectYaml(const std::string& path, std::vector<std::string>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    out->push_back(path);
    return;
  }
  std::vector<std::string> entries;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") entries.push_back(path + "/" + n);
    }
    closedir(d);
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) {
    struct stat sub;
    if (stat(e.c_str(), &sub) != 0) continue;
    if (S_ISDIR(sub.st_mode)) CollectYaml(e, out);
    else if (e.size() > 5 && e.compare(e.size() - 5, 5, ".yaml") == 0) out->push_back(e);
  }
}

}  // namespace

std::vector<std::string> FindScenarioFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) CollectYaml(p, &files);
  return files;
}

namespace {

// Parses `text` as YAML and hands the root to `parse`; every failure, the
// parser's own or yaml-cpp's, becomes kInvalidScenario at path:line:column.
template <typename T>
Result<T> ParseYaml(const std::string& text, const std::string& path,
                    const std::function<T(const YAML::Node&)>& parse) {
  try {
    return parse(YAML::Load(text));
  } catch (const ParseError& e) {
    return Status(ErrorClass::kInvalidScenario, e.message);
  } catch (const YAML::Exception& e) {
    return Status(ErrorClass::kInvalidScenario,
                  path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

}  // namespace

Result<std::vector<Case>> ParseScenario(const std::string& text, const std::string& path,
                                        const std::vector<std::string>* known_strategies) {
  return ParseYaml<std::vector<Case>>(
      text, path, [&](const YAML::Node& root) { return Parser(path, known_strategies).File(root); });
}

Result<fixtures::FixtureSpec> LoadFixtureSpecFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorClass::kIoError, path + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return ParseYaml<fixtures::FixtureSpec>(
      s.str(), path, [&](const YAML::Node& root) { return Parser(path, nullptr).Fixture(root); });
}

Result<std::vector<Case>> LoadScenarioFile(const std::string& path,
                                           const std::vector<std::string>* known_strategies) {
  std::ifstream in(path);
  if (!in) return Status(ErrorClass::kIoError, path + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return ParseScenario(s.str(), path, known_strategies);
}

std::string SkipReason(const Case& c, env::Backend backend, const env::HostFacts& host) {
  if (c.requires.cuda_build.has_value() && *c.requires.cuda_build != compat::kTorchHasCuda) {
    return std::string("requires a ") + (*c.requires.cuda_build ? "CUDA" : "CPU-only") + " build of LibTorch";
  }
  if (!c.requires.torch_min.empty()) {
    int major = 0, minor = 0;
    std::sscanf(c.requires.torch_min.c_str(), "%d.%d", &major, &minor);
    if (!compat::TorchAtLeast(major, minor)) return "requires LibTorch >= " + c.requires.torch_min;
  }
  if (backend == env::Backend::kReal && c.requires.min_gpus > host.physical_gpus) {
    return "requires " + std::to_string(c.requires.min_gpus) + " GPU(s)";
  }
  std::string why;
  if (!c.command.empty()) {
    if (!env::CanRealizeForProcess(c.environment, host, &why)) return why;
    return "";
  }
  if (!env::CanRealize(c.environment, backend, host, &why)) return why;
  return "";
}

std::string TestName(const std::string& id) {
  std::string out;
  for (char ch : id) out.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  return out;
}

}  // namespace harness::scenario
