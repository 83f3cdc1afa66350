#include "harness/recorder/cupti/test_support.h"

#include <dlfcn.h>

#include <vector>

namespace harness::recorder::cupti::testing {

std::string CopyThroughDriver(int64_t bytes) {
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW);
  if (cuda == nullptr) return "libcuda.so.1 not loadable";
  using Device = int;
  using Context = void*;
  using DevicePtr = unsigned long long;
  auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(cuda, "cuInit"));
  auto device_get = reinterpret_cast<int (*)(Device*, int)>(dlsym(cuda, "cuDeviceGet"));
  auto retain = reinterpret_cast<int (*)(Context*, Device)>(dlsym(cuda, "cuDevicePrimaryCtxRetain"));
  auto set_current = reinterpret_cast<int (*)(Context)>(dlsym(cuda, "cuCtxSetCurrent"));
  auto alloc = reinterpret_cast<int (*)(DevicePtr*, size_t)>(dlsym(cuda, "cuMemAlloc_v2"));
  auto free_device = reinterpret_cast<int (*)(DevicePtr)>(dlsym(cuda, "cuMemFree_v2"));
  auto to_device = reinterpret_cast<int (*)(DevicePtr, const void*, size_t)>(dlsym(cuda, "cuMemcpyHtoD_v2"));
  auto to_host = reinterpret_cast<int (*)(void*, DevicePtr, size_t)>(dlsym(cuda, "cuMemcpyDtoH_v2"));
  auto synchronize = reinterpret_cast<int (*)()>(dlsym(cuda, "cuCtxSynchronize"));
  if (!init || !device_get || !retain || !set_current || !alloc || !free_device || !to_device || !to_host ||
      !synchronize) {
    return "libcuda.so.1 lacks a driver API entry point";
  }
  Device device = 0;
  Context context = nullptr;
  DevicePtr dptr = 0;
  std::vector<unsigned char> host(static_cast<size_t>(bytes), 0x5a);
  if (int r = init(0)) return "cuInit " + std::to_string(r);
  if (int r = device_get(&device, 0)) return "cuDeviceGet " + std::to_string(r);
  if (int r = retain(&context, device)) return "cuDevicePrimaryCtxRetain " + std::to_string(r);
  if (int r = set_current(context)) return "cuCtxSetCurrent " + std::to_string(r);
  if (int r = alloc(&dptr, host.size())) return "cuMemAlloc " + std::to_string(r);
  if (int r = to_device(dptr, host.data(), host.size())) return "cuMemcpyHtoD " + std::to_string(r);
  if (int r = to_host(host.data(), dptr, host.size())) return "cuMemcpyDtoH " + std::to_string(r);
  synchronize();
  free_device(dptr);
  return "";
}

}  // namespace harness::recorder::cupti::testing
