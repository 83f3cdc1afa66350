#include "harness/recorder/cupti/driver_tally.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace harness::recorder::cupti {

void DriverTally::AddCopy(int src, int dst, int64_t bytes) {
  CopyCount& c = copies[{src, dst}];
  c.bytes += bytes;
  c.count += 1;
}

void DriverTally::AddAllocation(int device, int64_t bytes) {
  DeviceAllocations& m = device_memory[device];
  m.allocated_bytes += bytes;
  m.current_bytes += bytes;
  m.peak_bytes = std::max(m.peak_bytes, m.current_bytes);
}

void DriverTally::AddRelease(int device, int64_t bytes) { device_memory[device].current_bytes -= bytes; }

void DriverTally::Merge(const DriverTally& other) {
  for (const auto& [pair, c] : other.copies) {
    copies[pair].bytes += c.bytes;
    copies[pair].count += c.count;
  }
  for (const auto& [device, m] : other.device_memory) {
    DeviceAllocations& mine = device_memory[device];
    mine.allocated_bytes += m.allocated_bytes;
    mine.current_bytes += m.current_bytes;
    mine.peak_bytes += m.peak_bytes;
  }
  dropped_records += other.dropped_records;
}

#if HARNESS_CUDA_HAS_CUPTI
namespace {

// (src, dst) of a CUPTI memcpy kind on `device`; nullopt-like {-2, -2} for
// kinds that are not copies we know.
std::pair<int, int> Endpoints(uint8_t copy_kind, int device) {
  switch (copy_kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      return {kHost, device};
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      return {device, kHost};
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:  // peers unknown here: see MEMCPY2
      return {device, device};
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
      return {kHost, kHost};
    default:
      return {-2, -2};
  }
}

}  // namespace

// The record structs are those of the CUPTI headers this was built with
// (CUDA 13: Memcpy6, MemcpyPtoP4, Memory4). The fields read here sit at the
// same offsets in the versions CUDA 12 hands out (Memcpy5, MemcpyPtoP4,
// Memory3), so a 12.x libcupti at run time reads the same.
void AddActivityRecord(const CUpti_Activity& record, DriverTally* tally) {
  switch (record.kind) {
    case CUPTI_ACTIVITY_KIND_MEMCPY: {
      const auto& r = reinterpret_cast<const CUpti_ActivityMemcpy6&>(record);
      auto [src, dst] = Endpoints(r.copyKind, static_cast<int>(r.deviceId));
      if (src != -2) tally->AddCopy(src, dst, static_cast<int64_t>(r.bytes));
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY2: {
      const auto& r = reinterpret_cast<const CUpti_ActivityMemcpyPtoP4&>(record);
      tally->AddCopy(static_cast<int>(r.srcDeviceId), static_cast<int>(r.dstDeviceId), static_cast<int64_t>(r.bytes));
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMORY2: {
      const auto& r = reinterpret_cast<const CUpti_ActivityMemory4&>(record);
      if (r.memoryKind != CUPTI_ACTIVITY_MEMORY_KIND_DEVICE) break;
      const int device = static_cast<int>(r.deviceId);
      const auto bytes = static_cast<int64_t>(r.bytes);
      if (r.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION) {
        tally->AddAllocation(device, bytes);
      } else if (r.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE) {
        tally->AddRelease(device, bytes);
      }
      break;
    }
    default:
      break;
  }
}
#endif  // HARNESS_CUDA_HAS_CUPTI

std::string ProcessReport::ToJson() const {
  nlohmann::ordered_json j;
  j["pid"] = pid;
  j["program"] = program;
  j["injected"] = injected;
  j["cuda_check"] = cuda_check;
  j["cuda_usable"] = cuda_usable;
  j["cupti"] = cupti;
  j["dropped_records"] = tally.dropped_records;
  j["copies"] = nlohmann::ordered_json::array();
  for (const auto& [pair, c] : tally.copies) {
    j["copies"].push_back({{"src", pair.first}, {"dst", pair.second}, {"bytes", c.bytes}, {"count", c.count}});
  }
  j["device_memory"] = nlohmann::ordered_json::array();
  for (const auto& [device, m] : tally.device_memory) {
    j["device_memory"].push_back({{"device", device},
                                  {"allocated_bytes", m.allocated_bytes},
                                  {"current_bytes", m.current_bytes},
                                  {"peak_bytes", m.peak_bytes}});
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<ProcessReport> ProcessReport::FromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(ErrorClass::kIoError, "CUPTI process report is not a JSON object");
  }
  try {
    ProcessReport r;
    r.pid = j.at("pid").get<int64_t>();
    r.program = j.value("program", "");
    r.injected = j.at("injected").get<bool>();
    r.cuda_check = j.value("cuda_check", -1);
    r.cuda_usable = j.at("cuda_usable").get<bool>();
    r.cupti = j.at("cupti").get<std::string>();
    r.tally.dropped_records = j.value("dropped_records", int64_t(0));
    for (const auto& c : j.at("copies")) {
      CopyCount& count = r.tally.copies[{c.at("src").get<int>(), c.at("dst").get<int>()}];
      count.bytes += c.at("bytes").get<int64_t>();
      count.count += c.at("count").get<int64_t>();
    }
    for (const auto& m : j.at("device_memory")) {
      r.tally.device_memory[m.at("device").get<int>()] = {m.at("allocated_bytes").get<int64_t>(),
                                                          m.at("current_bytes").get<int64_t>(),
                                                          m.at("peak_bytes").get<int64_t>()};
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Status(ErrorClass::kIoError, std::string("CUPTI process report: ") + e.what());
  }
}

}  // namespace harness::recorder::cupti
