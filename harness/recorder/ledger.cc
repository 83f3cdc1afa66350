#include "harness/recorder/ledger.h"

#include <nlohmann/json.hpp>

namespace harness::recorder {
namespace {

nlohmann::ordered_json TransferJson(const Transfer& t) {
  return {{"bytes", t.bytes}, {"count", t.count}};
}

}  // namespace

std::string DeviceName(int index) {
  return index < 0 ? "cpu" : "cuda:" + std::to_string(index);
}

void CopyTally::Add(int src, int dst, int64_t bytes, int64_t copies) {
  Transfer* direction = src < 0 ? (dst < 0 ? &h2h : &h2d) : (dst < 0 ? &d2h : &d2d);
  direction->bytes += bytes;
  direction->count += copies;
  if (src >= 0 || dst >= 0) {
    Transfer& pair = pairs[DeviceName(src) + "->" + DeviceName(dst)];
    pair.bytes += bytes;
    pair.count += copies;
  }
}

CopyTally CopyTally::FromDriver(const cupti::DriverTally& driver) {
  CopyTally t;
  for (const auto& [pair, c] : driver.copies) t.Add(pair.first, pair.second, c.bytes, c.count);
  return t;
}

void Ledger::SetCopies(const CopyTally& t) {
  host_to_device = t.h2d;
  device_to_host = t.d2h;
  device_to_device = t.d2d;
  host_to_host = t.h2h;
  device_pairs = t.pairs;
}

std::string Ledger::ToJson() const {
  nlohmann::ordered_json j;
  j["host_to_device"] = TransferJson(host_to_device);
  j["device_to_host"] = TransferJson(device_to_host);
  j["device_to_device"] = TransferJson(device_to_device);
  j["host_to_host"] = TransferJson(host_to_host);
  j["device_pairs"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : device_pairs) j["device_pairs"][k] = TransferJson(v);
  j["by_op"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : by_op) j["by_op"][k] = TransferJson(v);
  j["memory"] = nlohmann::ordered_json::object();
  for (const auto& [k, m] : memory) {
    j["memory"][k] = {{"allocated_bytes", m.allocated_bytes},
                      {"peak_bytes", m.peak_bytes},
                      {"held_bytes", m.held_bytes}};
  }
  j["sources"] = sources;
  j["disagreements"] = disagreements;
  j["unmeasured"] = unmeasured;
  j["notes"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : notes) j["notes"][k] = v;
  j["wall_seconds"] = wall_seconds;
  j["checkpoint_bytes"] = checkpoint_bytes;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Ledger LedgerFromInjectedTally(const cupti::DriverTally& tally, const std::string& note) {
  Ledger ledger;
  ledger.SetCopies(CopyTally::FromDriver(tally));
  for (const auto& [device, m] : tally.device_memory) {
    ledger.memory[DeviceName(device)] = {m.allocated_bytes, m.peak_bytes, m.current_bytes};
  }
  ledger.sources.push_back("cupti-injection");
  ledger.unmeasured = {"memory.cpu", "by_op"};
  ledger.notes["cupti-injection"] =
      "device memory counted at cudaMalloc level (the caching allocator's segments); host-to-host "
      "counts CUDA copies only" + (note.empty() ? std::string() : "; " + note);
  return ledger;
}

}  // namespace harness::recorder
