#include "harness/strategy/strategy.h"

#include <cstdio>
#include <cstdlib>
#include <map>

namespace harness::strategy {
namespace {

std::map<std::string, std::unique_ptr<Strategy>, std::less<>>& Registry() {
  static auto* registry = new std::map<std::string, std::unique_ptr<Strategy>, std::less<>>();
  return *registry;
}

}  // namespace

void RegisterStrategy(std::unique_ptr<Strategy> strategy) {
  std::string name(strategy->name());
  if (!Registry().emplace(name, std::move(strategy)).second) {
    std::fprintf(stderr, "strategy '%s' registered twice\n", name.c_str());
    std::abort();
  }
}

const Strategy* FindStrategy(std::string_view name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> StrategyNames() {
  std::vector<std::string> names;
  for (const auto& [name, _] : Registry()) names.push_back(name);
  return names;
}

}  // namespace harness::strategy
