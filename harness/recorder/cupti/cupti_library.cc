#include "harness/recorder/cupti/cupti_library.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace harness::recorder::cupti {
namespace {

#if HARNESS_CUDA_HAS_CUPTI

// Path of a libcupti this process has already loaded, or "".
std::string AlreadyLoadedCupti() {
  std::string found;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        const char* name = info->dlpi_name;
        if (name != nullptr && std::strstr(name, "/libcupti.so") != nullptr) {
          *static_cast<std::string*>(data) = name;
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

// Where to look, in order (see the header).
std::vector<std::string> Candidates() {
  // One CUPTI per process: one already loaded is the one, whatever is asked.
  if (std::string loaded = AlreadyLoadedCupti(); !loaded.empty()) return {loaded};
  if (const char* explicit_path = std::getenv("HARNESS_CUPTI_LIBRARY"); explicit_path && *explicit_path) {
    return {explicit_path};  // explicit means only this one
  }
  std::vector<std::string> out;
  out.push_back("libcupti.so." + std::to_string(HARNESS_CUDA_TOOLKIT_VERSION / 1000));
  out.push_back("libcupti.so");
  out.push_back(HARNESS_CUDA_CUPTI_LIBRARY);
  return out;
}

template <typename Fn>
bool Bind(void* handle, const char* name, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr) *missing += std::string(missing->empty() ? "" : ", ") + name;
  return *fn != nullptr;
}

Result<const CuptiLibrary*> Load() {
  std::string tried;
  for (const std::string& candidate : Candidates()) {
    if (candidate.empty()) continue;
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      tried += "\n  " + candidate + ": " + (e ? e : "not loadable");
      continue;
    }
    auto* lib = new CuptiLibrary{};
    lib->path = candidate;
    lib->handle = handle;
    std::string missing;
    Bind(handle, "cuptiActivityEnable", &lib->activity_enable, &missing);
    Bind(handle, "cuptiActivityDisable", &lib->activity_disable, &missing);
    Bind(handle, "cuptiActivityRegisterCallbacks", &lib->activity_register_callbacks, &missing);
    Bind(handle, "cuptiActivityFlushAll", &lib->activity_flush_all, &missing);
    Bind(handle, "cuptiActivityGetNextRecord", &lib->activity_get_next_record, &missing);
    Bind(handle, "cuptiActivityGetNumDroppedRecords", &lib->activity_get_num_dropped_records, &missing);
    Bind(handle, "cuptiGetResultString", &lib->get_result_string, &missing);
    if (!missing.empty()) {
      delete lib;
      return Status(ErrorClass::kEnvNotRealized, candidate + " is not a usable CUPTI (missing " + missing + ")");
    }
    return static_cast<const CuptiLibrary*>(lib);
  }
  return Status(ErrorClass::kEnvNotRealized, "no CUPTI library found; set $HARNESS_CUPTI_LIBRARY. Tried:" + tried);
}

#endif  // HARNESS_CUDA_HAS_CUPTI

}  // namespace

#if HARNESS_CUDA_HAS_CUPTI
std::string CuptiLibrary::ResultName(CUptiResult r) const {
  const char* name = nullptr;
  if (get_result_string == nullptr || get_result_string(r, &name) != CUPTI_SUCCESS || name == nullptr) {
    name = "CUPTI_ERROR";
  }
  return std::string(name) + " (" + std::to_string(static_cast<int>(r)) + ")";
}
#endif

Result<const CuptiLibrary*> LoadCupti() {
#if HARNESS_CUDA_HAS_CUPTI
  // Never destroyed: CUPTI may call back while the process exits.
  static const auto* loaded = new Result<const CuptiLibrary*>(Load());
  return *loaded;
#else
  return Status(ErrorClass::kEnvNotRealized, "built without CUPTI headers (no CUDA Toolkit found at build time)");
#endif
}

}  // namespace harness::recorder::cupti
