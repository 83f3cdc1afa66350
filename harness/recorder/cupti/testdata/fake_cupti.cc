// A library that plays CUPTI's activity API for tests on hosts without a GPU,
// loaded through $HARNESS_CUPTI_LIBRARY. Its flushes hand back hand-made
// records, as real CUPTI would after real copies:
//
//   FAKE_CUPTI_FLUSHES="group;group;..."   group i is handed back at flush i
//                                          (counting from 0; the tracer's
//                                          Start flushes once)
//   group = item,item,...
//   item  = htod:BYTES | dtoh:BYTES | dtod:BYTES | ptop:SRC:DST:BYTES |
//           alloc:BYTES | free:BYTES | incomplete | signal
//
// Copies are on device 0 unless ptop. `incomplete` is a record that is not
// finished, as a forced flush can return one: cuptiActivityGetNextRecord
// answers CUPTI_ERROR_INVALID_KIND there. `signal` raises SIGUSR1 inside the
// flush, before handing anything back.
#include "cuda_toolkit/cuda_toolkit_info.h"

#if HARNESS_CUDA_HAS_CUPTI
#include <cupti_activity.h>
#include <cupti_result.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

std::mutex mu;
CUpti_BuffersCallbackRequestFunc request = nullptr;
CUpti_BuffersCallbackCompleteFunc complete = nullptr;
int flushes = 0;

constexpr size_t Align8(size_t n) { return (n + 7) & ~size_t(7); }

size_t RecordSize(CUpti_ActivityKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return Align8(sizeof(CUpti_ActivityMemcpy6));
    case CUPTI_ACTIVITY_KIND_MEMCPY2:
      return Align8(sizeof(CUpti_ActivityMemcpyPtoP4));
    case CUPTI_ACTIVITY_KIND_MEMORY2:
      return Align8(sizeof(CUpti_ActivityMemory4));
    default:
      return 8;
  }
}

std::vector<std::string> Split(const std::string& s, char by) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == by) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Writes the records of `group` into `buffer`; returns the bytes used.
size_t Fill(const std::string& group, uint8_t* buffer, size_t size) {
  size_t used = 0;
  for (const std::string& item : Split(group, ',')) {
    std::vector<std::string> f = Split(item, ':');
    uint8_t* at = buffer + used;
    if (f[0] == "htod" || f[0] == "dtoh" || f[0] == "dtod") {
      CUpti_ActivityMemcpy6 r{};
      r.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
      r.copyKind = f[0] == "htod"   ? CUPTI_ACTIVITY_MEMCPY_KIND_HTOD
                   : f[0] == "dtoh" ? CUPTI_ACTIVITY_MEMCPY_KIND_DTOH
                                    : CUPTI_ACTIVITY_MEMCPY_KIND_DTOD;
      r.bytes = std::strtoull(f.at(1).c_str(), nullptr, 10);
      if (used + RecordSize(r.kind) > size) break;
      std::memcpy(at, &r, sizeof(r));
      used += RecordSize(r.kind);
    } else if (f[0] == "ptop") {
      CUpti_ActivityMemcpyPtoP4 r{};
      r.kind = CUPTI_ACTIVITY_KIND_MEMCPY2;
      r.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
      r.srcDeviceId = static_cast<uint32_t>(std::atoi(f.at(1).c_str()));
      r.dstDeviceId = static_cast<uint32_t>(std::atoi(f.at(2).c_str()));
      r.deviceId = r.dstDeviceId;
      r.bytes = std::strtoull(f.at(3).c_str(), nullptr, 10);
      if (used + RecordSize(r.kind) > size) break;
      std::memcpy(at, &r, sizeof(r));
      used += RecordSize(r.kind);
    } else if (f[0] == "alloc" || f[0] == "free") {
      CUpti_ActivityMemory4 r{};
      r.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
      r.memoryOperationType = f[0] == "alloc" ? CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION
                                              : CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
      r.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
      r.bytes = std::strtoull(f.at(1).c_str(), nullptr, 10);
      if (used + RecordSize(r.kind) > size) break;
      std::memcpy(at, &r, sizeof(r));
      used += RecordSize(r.kind);
    } else if (f[0] == "incomplete") {
      CUpti_ActivityKind invalid = CUPTI_ACTIVITY_KIND_INVALID;
      if (used + 8 > size) break;
      std::memcpy(at, &invalid, sizeof(invalid));
      used += 8;
    }
  }
  return used;
}

}  // namespace

extern "C" {

CUptiResult cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc requested,
                                           CUpti_BuffersCallbackCompleteFunc completed) {
  std::lock_guard<std::mutex> lock(mu);
  request = requested;
  complete = completed;
  return CUPTI_SUCCESS;
}

CUptiResult cuptiActivityEnable(CUpti_ActivityKind) { return CUPTI_SUCCESS; }

CUptiResult cuptiActivityDisable(CUpti_ActivityKind) { return CUPTI_SUCCESS; }

CUptiResult cuptiActivityFlushAll(uint32_t) {
  std::string group;
  {
    std::lock_guard<std::mutex> lock(mu);
    const char* spec = std::getenv("FAKE_CUPTI_FLUSHES");
    std::vector<std::string> groups = Split(spec != nullptr ? spec : "", ';');
    const int index = flushes++;
    if (index < static_cast<int>(groups.size())) group = groups[index];
  }
  if (group == "signal") raise(SIGUSR1);
  if (group.empty() || request == nullptr || complete == nullptr) return CUPTI_SUCCESS;
  uint8_t* buffer = nullptr;
  size_t size = 0, max_records = 0;
  request(&buffer, &size, &max_records);
  if (buffer == nullptr) return CUPTI_ERROR_OUT_OF_MEMORY;
  complete(nullptr, 0, buffer, size, Fill(group, buffer, size));
  return CUPTI_SUCCESS;
}

CUptiResult cuptiActivityGetNextRecord(uint8_t* buffer, size_t valid_size, CUpti_Activity** record) {
  size_t offset = *record == nullptr
                      ? 0
                      : static_cast<size_t>(reinterpret_cast<uint8_t*>(*record) - buffer) + RecordSize((*record)->kind);
  if (offset >= valid_size) return CUPTI_ERROR_MAX_LIMIT_REACHED;
  *record = reinterpret_cast<CUpti_Activity*>(buffer + offset);
  if ((*record)->kind == CUPTI_ACTIVITY_KIND_INVALID) return CUPTI_ERROR_INVALID_KIND;
  return CUPTI_SUCCESS;
}

CUptiResult cuptiActivityGetNumDroppedRecords(CUcontext, uint32_t, size_t* dropped) {
  *dropped = 0;
  return CUPTI_SUCCESS;
}

CUptiResult cuptiGetResultString(CUptiResult result, const char** str) {
  *str = result == CUPTI_SUCCESS ? "CUPTI_SUCCESS" : "CUPTI_ERROR (fake)";
  return CUPTI_SUCCESS;
}

}  // extern "C"

#endif  // HARNESS_CUDA_HAS_CUPTI
