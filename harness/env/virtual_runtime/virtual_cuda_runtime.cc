// libharness_virtual_cuda.so: the CUDA runtime API that LibTorch's CUDA build
// calls (the cuda* symbols its libtorch_cuda.so and libc10_cuda.so import,
// CUDA 13), over host memory. See virtual_runtime.h for what it promises.
//
// A device pointer is a host pointer this library allocated; a table of
// allocations says which device one belongs to, and so where a copy goes.
// Streams and events exist as handles and every operation completes at once.
// Kernels do not run. The few driver entry points LibTorch dlsyms from
// libcuda.so.1 (this library's soname) answer as a driver with these devices.
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "harness/env/virtual_runtime/tally.h"
#include "harness/env/virtual_runtime/virtual_runtime.h"

namespace {

using harness::env::kMaxVirtualRuntimeDevices;
constexpr int kHost = -1;

struct Allocation {
  int device;
  size_t bytes;
};

struct DeviceState {
  int64_t capacity = 0;  // 0: unlimited
  int64_t allocated = 0;
  int64_t current = 0;
  int64_t peak = 0;
  bool allocated_here = false;  // this image allocated on it
};

struct State {
  std::mutex mu;
  // Visible devices, in the order the process numbers them.
  int device_count = 0;
  DeviceState devices[kMaxVirtualRuntimeDevices];
  std::map<uintptr_t, Allocation> allocations;             // start -> allocation
  std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> copies;  // (src, dst) -> bytes, count
  std::string config_error;
};

State& GetState() {
  static State* state = new State();
  return *state;
}

// The image that called the runtime (a pid: a forked child starts unused).
std::atomic<pid_t> used_by{0};
std::once_flag configured;
thread_local int current_device = 0;
thread_local cudaError_t last_error = cudaSuccess;

// Physical devices from the spec, then CUDA_VISIBLE_DEVICES as the real
// runtime reads it: indices separated by commas, cut at the first that is no
// valid index; unset means all.
void Configure() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.config_error.clear();
  s.device_count = 0;
  const char* text = std::getenv(harness::env::kVirtualCudaEnvVar);
  harness::Result<harness::env::VirtualRuntimeSpec> spec =
      harness::env::ParseVirtualRuntimeSpec(text != nullptr ? text : "0");
  if (!spec.ok()) {
    s.config_error = spec.status().message();
    std::fprintf(stderr, "libharness_virtual_cuda.so: %s; no virtual devices\n", s.config_error.c_str());
    return;
  }
  std::vector<int> visible;
  const char* list = std::getenv("CUDA_VISIBLE_DEVICES");
  if (list == nullptr) {
    for (int i = 0; i < spec->device_count; ++i) visible.push_back(i);
  } else {
    std::string entries = list;
    size_t start = 0;
    while (start <= entries.size()) {
      const size_t comma = entries.find(',', start);
      const std::string field = entries.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      char* end = nullptr;
      const long index = std::strtol(field.c_str(), &end, 10);
      if (field.empty() || *end != '\0' || index < 0 || index >= spec->device_count) break;
      visible.push_back(static_cast<int>(index));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  s.device_count = static_cast<int>(visible.size());
  for (size_t i = 0; i < visible.size(); ++i) {
    const size_t physical = static_cast<size_t>(visible[i]);
    s.devices[i].capacity = physical < spec->capacity_bytes.size() ? spec->capacity_bytes[physical] : 0;
  }
  s.copies.clear();
  for (DeviceState& d : s.devices) {
    d.allocated = 0;
    d.peak = d.current;
    d.allocated_here = false;
  }
}

// Every runtime entry point starts here: reads the configuration once and
// marks this image as one that used CUDA.
State& Use() {
  std::call_once(configured, Configure);
  const pid_t me = getpid();
  if (used_by.load(std::memory_order_relaxed) != me) used_by.store(me);
  return GetState();
}

cudaError_t Fail(cudaError_t e) {
  last_error = e;
  return e;
}

bool ValidDevice(const State& s, int device) { return device >= 0 && device < s.device_count; }

int64_t TotalBytes(const DeviceState& d) { return d.capacity > 0 ? d.capacity : harness::env::kUnlimitedDeviceBytes; }

// The device whose allocation holds [p, p + n), kHost for memory no
// allocation holds, or -2 when the range starts in one and runs past it.
int DeviceOf(State& s, const void* p, size_t n) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(p);
  auto it = s.allocations.upper_bound(at);
  if (it == s.allocations.begin()) return kHost;
  --it;
  if (at >= it->first + it->second.bytes) return kHost;
  return at + n <= it->first + it->second.bytes ? it->second.device : -2;
}

cudaError_t Copy(void* dst, const void* src, size_t n) {
  State& s = Use();
  int from, to;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    from = DeviceOf(s, src, n);
    to = DeviceOf(s, dst, n);
    if (from == -2 || to == -2) return Fail(cudaErrorInvalidValue);
    auto& count = s.copies[{from, to}];
    count.first += static_cast<int64_t>(n);
    count.second += 1;
  }
  if (n > 0) std::memmove(dst, src, n);
  return cudaSuccess;
}

cudaError_t Set(void* p, int value, size_t n) {
  State& s = Use();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (DeviceOf(s, p, n) < 0) return Fail(cudaErrorInvalidValue);
  }
  std::memset(p, value, n);
  return cudaSuccess;
}

// Fork: the state is held across it, so the child's copy is whole; the
// child's counts start afresh (memory and allocations are copied).
void BeforeFork() { GetState().mu.lock(); }
void AfterForkInParent() { GetState().mu.unlock(); }
void AfterFork() {
  State& s = GetState();
  s.mu.unlock();
  s.copies.clear();
  for (DeviceState& d : s.devices) {
    d.allocated = 0;
    d.peak = d.current;
    d.allocated_here = false;
  }
}

__attribute__((constructor)) void OnLoad() { pthread_atfork(&BeforeFork, &AfterForkInParent, &AfterFork); }

std::atomic<uintptr_t> next_handle{0x1000};
template <typename Handle>
Handle NewHandle() {
  return reinterpret_cast<Handle>(next_handle.fetch_add(64));
}

}  // namespace

#define EXPORT extern "C" __attribute__((visibility("default")))

// ---- What the injection library asks (tally.h).

EXPORT bool harness_virtual_cuda_tally(harness::env::VirtualCudaTally* out) {
  if (used_by.load() != getpid()) return false;
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  out->copies.clear();
  out->memory.clear();
  for (const auto& [pair, count] : s.copies) {
    out->copies.push_back({pair.first, pair.second, count.first, count.second});
  }
  for (int i = 0; i < s.device_count; ++i) {
    const DeviceState& d = s.devices[i];
    if (d.allocated_here) out->memory.push_back({i, d.allocated, d.current, d.peak});
  }
  return true;
}

// Reads HARNESS_VIRTUAL_CUDA and CUDA_VISIBLE_DEVICES again and starts the
// counts afresh: for a process that forks one child per environment (the
// harness's workers on the CUDA leg, env/environment.cc). Call it before
// LibTorch first asks for the device count (it keeps the answer). Returns
// nullptr, or why the spec was refused (then there are no devices).
EXPORT const char* harness_virtual_cuda_reconfigure() {
  std::call_once(configured, [] {});
  Configure();
  State& s = GetState();
  return s.config_error.empty() ? nullptr : s.config_error.c_str();
}

// ---- Devices.

EXPORT cudaError_t cudaGetDeviceCount(int* count) {
  State& s = Use();
  *count = s.device_count;
  return s.device_count == 0 ? Fail(cudaErrorNoDevice) : cudaSuccess;
}

EXPORT cudaError_t cudaGetDevice(int* device) {
  State& s = Use();
  if (s.device_count == 0) return Fail(cudaErrorNoDevice);
  *device = current_device;
  return cudaSuccess;
}

EXPORT cudaError_t cudaSetDevice(int device) {
  State& s = Use();
  if (s.device_count == 0) return Fail(cudaErrorNoDevice);
  if (!ValidDevice(s, device)) return Fail(cudaErrorInvalidDevice);
  current_device = device;
  return cudaSuccess;
}

EXPORT cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  State& s = Use();
  if (!ValidDevice(s, device)) return Fail(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof(*p));
  std::snprintf(p->name, sizeof(p->name), "Virtual CUDA device %d (harness)", device);
  p->totalGlobalMem = static_cast<size_t>(TotalBytes(s.devices[device]));
  // An H100's figures, where LibTorch reads any.
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsPerMultiProcessor = 2048;
  p->maxThreadsDim[0] = 1024;
  p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647;
  p->maxGridSize[1] = 65535;
  p->maxGridSize[2] = 65535;
  p->sharedMemPerBlock = 48 << 10;
  p->sharedMemPerBlockOptin = 227 << 10;
  p->sharedMemPerMultiprocessor = 228 << 10;
  p->regsPerBlock = 65536;
  p->regsPerMultiprocessor = 65536;
  p->l2CacheSize = 50 << 20;
  p->memoryBusWidth = 5120;
  p->pciBusID = device;
  p->unifiedAddressing = 1;
  p->managedMemory = 1;
  p->concurrentManagedAccess = 1;
  return cudaSuccess;
}

EXPORT cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  State& s = Use();
  if (!ValidDevice(s, device)) return Fail(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMultiProcessorCount: *value = 132; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrUnifiedAddressing: *value = 1; break;
    default: *value = 0;
  }
  return cudaSuccess;
}

EXPORT cudaError_t cudaDeviceGetPCIBusId(char* id, int len, int device) {
  State& s = Use();
  if (!ValidDevice(s, device)) return Fail(cudaErrorInvalidDevice);
  std::snprintf(id, static_cast<size_t>(len), "0000:%02x:00.0", device);
  return cudaSuccess;
}

EXPORT cudaError_t cudaDeviceCanAccessPeer(int* can, int device, int peer) {
  State& s = Use();
  if (!ValidDevice(s, device) || !ValidDevice(s, peer)) return Fail(cudaErrorInvalidDevice);
  *can = device != peer;
  return cudaSuccess;
}

EXPORT cudaError_t cudaDeviceEnablePeerAccess(int, unsigned int) { return Use(), cudaSuccess; }

EXPORT cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
  Use();
  if (least) *least = 0;
  if (greatest) *greatest = -5;
  return cudaSuccess;
}

EXPORT cudaError_t cudaDeviceSynchronize() { return Use(), cudaSuccess; }
EXPORT cudaError_t cudaDriverGetVersion(int* v) { return Use(), *v = CUDART_VERSION, cudaSuccess; }
EXPORT cudaError_t cudaRuntimeGetVersion(int* v) { return Use(), *v = CUDART_VERSION, cudaSuccess; }

// ---- Memory.

EXPORT cudaError_t cudaMalloc(void** p, size_t n) {
  State& s = Use();
  const int device = current_device;
  if (s.device_count == 0) return Fail(cudaErrorNoDevice);
  if (!ValidDevice(s, device)) return Fail(cudaErrorInvalidDevice);
  DeviceState& d = s.devices[device];
  {
    // Reserved first, so that threads allocating at once stay within capacity.
    std::lock_guard<std::mutex> lock(s.mu);
    if (d.current + static_cast<int64_t>(n) > TotalBytes(d)) return Fail(cudaErrorMemoryAllocation);
    d.current += static_cast<int64_t>(n);
  }
  // Real device allocations are 512-byte aligned at least.
  void* memory = std::aligned_alloc(512, (n + 511) / 512 * 512 + (n == 0 ? 512 : 0));
  std::lock_guard<std::mutex> lock(s.mu);
  if (memory == nullptr) {
    d.current -= static_cast<int64_t>(n);
    return Fail(cudaErrorMemoryAllocation);
  }
  s.allocations[reinterpret_cast<uintptr_t>(memory)] = {device, n};
  d.allocated += static_cast<int64_t>(n);
  if (d.current > d.peak) d.peak = d.current;
  d.allocated_here = true;
  *p = memory;
  return cudaSuccess;
}

EXPORT cudaError_t cudaFree(void* p) {
  State& s = Use();
  if (p == nullptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.allocations.find(reinterpret_cast<uintptr_t>(p));
    if (it == s.allocations.end()) return Fail(cudaErrorInvalidValue);
    s.devices[it->second.device].current -= static_cast<int64_t>(it->second.bytes);
    s.allocations.erase(it);
  }
  std::free(p);
  return cudaSuccess;
}

EXPORT cudaError_t cudaMallocAsync(void** p, size_t n, cudaStream_t) { return cudaMalloc(p, n); }
EXPORT cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }

EXPORT cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  State& s = Use();
  if (!ValidDevice(s, current_device)) return Fail(s.device_count == 0 ? cudaErrorNoDevice : cudaErrorInvalidDevice);
  std::lock_guard<std::mutex> lock(s.mu);
  const DeviceState& d = s.devices[current_device];
  *total_bytes = static_cast<size_t>(TotalBytes(d));
  *free_bytes = static_cast<size_t>(TotalBytes(d) - d.current);
  return cudaSuccess;
}

// Pinned host memory is host memory.
EXPORT cudaError_t cudaHostAlloc(void** p, size_t n, unsigned int) {
  Use();
  *p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096 + (n == 0 ? 4096 : 0));
  return *p != nullptr ? cudaSuccess : Fail(cudaErrorMemoryAllocation);
}
EXPORT cudaError_t cudaFreeHost(void* p) { return Use(), std::free(p), cudaSuccess; }
EXPORT cudaError_t cudaHostRegister(void*, size_t, unsigned int) { return Use(), cudaSuccess; }
EXPORT cudaError_t cudaHostUnregister(void*) { return Use(), cudaSuccess; }

EXPORT cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  State& s = Use();
  std::memset(a, 0, sizeof(*a));
  std::lock_guard<std::mutex> lock(s.mu);
  const int device = DeviceOf(s, p, 0);
  a->type = device == kHost ? cudaMemoryTypeUnregistered : cudaMemoryTypeDevice;
  a->device = device == kHost ? -2 : device;
  a->devicePointer = device == kHost ? nullptr : const_cast<void*>(p);
  return cudaSuccess;
}

EXPORT cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) { return Copy(dst, src, n); }
EXPORT cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind, cudaStream_t) {
  return Copy(dst, src, n);
}
EXPORT cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t n, cudaStream_t) {
  return Copy(dst, src, n);
}
EXPORT cudaError_t cudaMemset(void* p, int value, size_t n) { return Set(p, value, n); }
EXPORT cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t) { return Set(p, value, n); }

EXPORT cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t*, int) { return Use(), Fail(cudaErrorNotSupported); }
EXPORT cudaError_t cudaIpcGetMemHandle(cudaIpcMemHandle_t*, void*) { return Use(), Fail(cudaErrorNotSupported); }
EXPORT cudaError_t cudaIpcOpenMemHandle(void**, cudaIpcMemHandle_t, unsigned int) {
  return Use(), Fail(cudaErrorNotSupported);
}
EXPORT cudaError_t cudaIpcCloseMemHandle(void*) { return Use(), Fail(cudaErrorNotSupported); }

// ---- Errors, in the real runtime's words.

namespace {

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* text;
};
constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorNotSupported, "cudaErrorNotSupported",
     "operation not supported (a virtual CUDA device holds and copies bytes; kernels do not run)"},
};

const ErrorText* Find(cudaError_t e) {
  for (const ErrorText& t : kErrors) {
    if (t.error == e) return &t;
  }
  return nullptr;
}

}  // namespace

EXPORT const char* cudaGetErrorName(cudaError_t e) {
  const ErrorText* t = Find(e);
  return t != nullptr ? t->name : "cudaErrorUnknown";
}
EXPORT const char* cudaGetErrorString(cudaError_t e) {
  const ErrorText* t = Find(e);
  return t != nullptr ? t->text : "unknown error";
}
EXPORT cudaError_t cudaGetLastError() {
  const cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}
EXPORT cudaError_t cudaPeekAtLastError() { return last_error; }

// ---- Streams, events, graphs: handles; everything has finished already.

EXPORT cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int, int) {
  return Use(), *stream = NewHandle<cudaStream_t>(), cudaSuccess;
}
EXPORT cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
EXPORT cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
EXPORT cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
EXPORT cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }
EXPORT cudaError_t cudaStreamAddCallback(cudaStream_t stream, cudaStreamCallback_t callback, void* data, unsigned int) {
  callback(stream, cudaSuccess, data);
  return cudaSuccess;
}
EXPORT cudaError_t cudaStreamIsCapturing(cudaStream_t, cudaStreamCaptureStatus* status) {
  *status = cudaStreamCaptureStatusNone;
  return cudaSuccess;
}
EXPORT cudaError_t cudaStreamGetCaptureInfo(cudaStream_t, cudaStreamCaptureStatus* status, unsigned long long* id,
                                            cudaGraph_t* graph, const cudaGraphNode_t** dependencies,
                                            const cudaGraphEdgeData** edges, size_t* count) {
  *status = cudaStreamCaptureStatusNone;
  if (id) *id = 0;
  if (graph) *graph = nullptr;
  if (dependencies) *dependencies = nullptr;
  if (edges) *edges = nullptr;
  if (count) *count = 0;
  return cudaSuccess;
}
EXPORT cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) { return Fail(cudaErrorNotSupported); }
EXPORT cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode*) { return cudaSuccess; }
EXPORT cudaError_t cudaEventCreate(cudaEvent_t* event) { return Use(), *event = NewHandle<cudaEvent_t>(), cudaSuccess; }
EXPORT cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) { return cudaEventCreate(event); }
EXPORT cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }
EXPORT cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
EXPORT cudaError_t cudaEventRecordWithFlags(cudaEvent_t, cudaStream_t, unsigned int) { return cudaSuccess; }
EXPORT cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
EXPORT cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
EXPORT cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) { return *ms = 0, cudaSuccess; }
EXPORT cudaError_t cudaIpcGetEventHandle(cudaIpcEventHandle_t*, cudaEvent_t) { return Fail(cudaErrorNotSupported); }
EXPORT cudaError_t cudaIpcOpenEventHandle(cudaEvent_t*, cudaIpcEventHandle_t) { return Fail(cudaErrorNotSupported); }

// ---- Kernels: registered (LibTorch registers thousands while it loads),
// never run.

EXPORT void** __cudaRegisterFatBinary(void*) {
  static void* handle = nullptr;
  return &handle;
}
EXPORT void __cudaRegisterFatBinaryEnd(void**) {}
EXPORT void __cudaUnregisterFatBinary(void**) {}
EXPORT void __cudaRegisterFunction(void**, const char*, char*, const char*, int, uint3*, uint3*, dim3*, dim3*, int*) {}
EXPORT void __cudaRegisterVar(void**, char*, char*, const char*, int, size_t, int, int) {}
EXPORT unsigned __cudaPushCallConfiguration(dim3, dim3, size_t, void*) { return 0; }
EXPORT cudaError_t __cudaPopCallConfiguration(dim3*, dim3*, size_t*, void*) { return cudaSuccess; }
EXPORT cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* function) {
  *kernel = reinterpret_cast<cudaKernel_t>(const_cast<void*>(function));
  return cudaSuccess;
}
EXPORT cudaError_t __cudaLaunchKernel(cudaKernel_t, dim3, dim3, void**, size_t, cudaStream_t) {
  return Use(), Fail(cudaErrorNotSupported);
}
EXPORT cudaError_t cudaLaunchKernel(const void*, dim3, dim3, void**, size_t, cudaStream_t) {
  return Use(), Fail(cudaErrorNotSupported);
}
EXPORT cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t*, const void*, void**) {
  return Use(), Fail(cudaErrorNotSupported);
}
EXPORT cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* a, const void*) {
  std::memset(a, 0, sizeof(*a));
  a->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}
EXPORT cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute, int) { return cudaSuccess; }
EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* blocks, const void*, int, size_t,
                                                                         unsigned int) {
  return *blocks = 1, cudaSuccess;
}
EXPORT cudaError_t cudaGetSymbolAddress(void**, const void*) { return Fail(cudaErrorNotSupported); }
EXPORT cudaError_t cudaMemcpyToSymbol(const void*, const void*, size_t, size_t, cudaMemcpyKind) {
  return Fail(cudaErrorNotSupported);
}
EXPORT cudaError_t cudaGetDriverEntryPointByVersion(const char*, void** function, unsigned int, unsigned long long,
                                                    cudaDriverEntryPointQueryResult* status) {
  *function = nullptr;
  if (status) *status = cudaDriverEntryPointSymbolNotFound;
  return Fail(cudaErrorNotSupported);
}

// ---- The driver entry points LibTorch looks up in libcuda.so.1 (CUresult:
// 0 success, 3 CUDA_ERROR_NOT_INITIALIZED, 101 CUDA_ERROR_INVALID_DEVICE).

EXPORT int cuInit(unsigned int) { return Use(), 0; }
EXPORT int cuDriverGetVersion(int* version) { return *version = CUDART_VERSION, 0; }
// A process that never called the runtime has no driver state to ask, as
// after no cuInit: the injection library reads that as "used no GPU".
EXPORT int cuDeviceGetCount(int* count) {
  if (used_by.load() != getpid()) return 3;
  return *count = GetState().device_count, 0;
}
EXPORT int cuDevicePrimaryCtxGetState(int device, unsigned int* flags, int* active) {
  State& s = Use();
  if (!ValidDevice(s, device)) return 101;
  *flags = 0;
  *active = 1;
  return 0;
}
EXPORT int cuGetErrorString(int, const char** text) { return *text = "virtual CUDA driver (harness)", 0; }
