#include "harness/recorder/ledger.h"

#include <nlohmann/json.hpp>

#include "harness/base/device.h"

namespace harness::recorder {
namespace {

struct DirectionNames {
  Direction direction;
  std::string_view name;
  std::string_view abbreviation;
};
constexpr DirectionNames kDirectionNames[] = {
    {Direction::kHostToDevice, "host_to_device", "h2d"},
    {Direction::kDeviceToHost, "device_to_host", "d2h"},
    {Direction::kDeviceToDevice, "device_to_device", "d2d"},
    {Direction::kHostToHost, "host_to_host", "h2h"},
};

const DirectionNames& NamesOf(Direction d) { return kDirectionNames[static_cast<size_t>(d)]; }

}  // namespace

std::string_view DirectionName(Direction d) { return NamesOf(d).name; }
std::string_view DirectionAbbreviation(Direction d) { return NamesOf(d).abbreviation; }

std::optional<Direction> DirectionFromName(std::string_view name) {
  for (const DirectionNames& n : kDirectionNames) {
    if (n.name == name) return n.direction;
  }
  return std::nullopt;
}

Direction DirectionOf(int src, int dst) {
  if (src < 0) return dst < 0 ? Direction::kHostToHost : Direction::kHostToDevice;
  return dst < 0 ? Direction::kDeviceToHost : Direction::kDeviceToDevice;
}

void Copies::Add(int src, int dst, int64_t bytes, int64_t copies) {
  (*this)[DirectionOf(src, dst)].Add(bytes, copies);
  if (src >= 0 || dst >= 0) device_pairs[DeviceNameOf(src) + "->" + DeviceNameOf(dst)].Add(bytes, copies);
}

Copies Copies::FromDriver(const cupti::DriverTally& driver) {
  Copies c;
  for (const auto& [pair, t] : driver.copies) c.Add(pair.first, pair.second, t.bytes, t.count);
  return c;
}

bool Ledger::Measures(const std::string& field) const {
  for (const std::string& u : unmeasured) {
    if (u == field) return false;
  }
  return true;
}

Ledger LedgerFromInjectedTally(const cupti::DriverTally& tally, const std::string& note, const std::string& source) {
  Ledger ledger;
  ledger.copies = Copies::FromDriver(tally);
  for (const auto& [device, m] : tally.device_memory) {
    ledger.memory[DeviceNameOf(device)] = {m.allocated_bytes, m.peak_bytes, m.current_bytes};
  }
  ledger.sources.push_back(source);
  ledger.unmeasured = {"memory.cpu", "by_op"};
  ledger.notes[source] =
      "device memory counted at cudaMalloc level (the caching allocator's segments); host-to-host "
      "counts CUDA copies only" +
      (note.empty() ? std::string() : "; " + note);
  return ledger;
}

void to_json(nlohmann::json& j, const Transfer& t) { j = {{"bytes", t.bytes}, {"count", t.count}}; }
void from_json(const nlohmann::json& j, Transfer& t) {
  j.at("bytes").get_to(t.bytes);
  j.at("count").get_to(t.count);
}
void to_json(nlohmann::json& j, const DeviceMemory& m) {
  j = {{"allocated_bytes", m.allocated_bytes}, {"peak_bytes", m.peak_bytes}, {"held_bytes", m.held_bytes}};
}
void from_json(const nlohmann::json& j, DeviceMemory& m) {
  j.at("allocated_bytes").get_to(m.allocated_bytes);
  j.at("peak_bytes").get_to(m.peak_bytes);
  j.at("held_bytes").get_to(m.held_bytes);
}

void to_json(nlohmann::json& j, const Ledger& l) {
  j = nlohmann::json::object();
  for (Direction d : kDirections) j[std::string(DirectionName(d))] = l.copies[d];
  j["device_pairs"] = l.copies.device_pairs;
  j["by_op"] = l.by_op;
  j["memory"] = l.memory;
  j["sources"] = l.sources;
  j["disagreements"] = l.disagreements;
  j["unmeasured"] = l.unmeasured;
  j["notes"] = l.notes;
  j["wall_seconds"] = l.wall_seconds;
  j["checkpoint_bytes"] = l.checkpoint_bytes;
}

void from_json(const nlohmann::json& j, Ledger& l) {
  for (Direction d : kDirections) j.at(std::string(DirectionName(d))).get_to(l.copies[d]);
  j.at("device_pairs").get_to(l.copies.device_pairs);
  j.at("by_op").get_to(l.by_op);
  j.at("memory").get_to(l.memory);
  j.at("sources").get_to(l.sources);
  j.at("disagreements").get_to(l.disagreements);
  l.unmeasured = j.value("unmeasured", std::vector<std::string>{});
  l.notes = j.value("notes", std::map<std::string, std::string>{});
  j.at("wall_seconds").get_to(l.wall_seconds);
  j.at("checkpoint_bytes").get_to(l.checkpoint_bytes);
}

}  // namespace harness::recorder
