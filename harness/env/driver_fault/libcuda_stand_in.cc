// A stand-in for the NVIDIA driver library libcuda.so.1 that makes the CUDA
// runtime (and so LibTorch) see a chosen fault. Built against the CUDA
// Toolkit's cuda.h, so each entry point defined here has the driver's own
// signature. See driver_fault.h for how it is put in place.
//
// The faults are the rows of harness/env/cuda_state.h played by the
// stand-in; that table gives each one's driver version and error code.
// The fault comes from $HARNESS_CUDA_FAULT, read when the driver is first
// reached (the runtime's first cuGetProcAddress, or any call that reports
// the fault) and fixed from then on:
//
//   no-device   (also when unset or empty) cuInit and every entry point not
//               defined here return CUDA_ERROR_NO_DEVICE; cuDriverGetVersion
//               reports the toolkit's CUDA_VERSION. Runtime: cudaErrorNoDevice.
//   old-driver  cuDriverGetVersion reports 9000 (CUDA 9.0), older than any
//               runtime that looks drivers up through cuGetProcAddress; the
//               runtime then gives cudaErrorInsufficientDriver without
//               calling cuInit. cuInit and every entry point not defined
//               here return 35, the runtime's cudaErrorInsufficientDriver
//               (cuda.h names no driver error 35).
//   no-driver   as old-driver, with driver version 0: what the runtime
//               reports when there is no libcuda.so.1 at all.
//
// An unknown value behaves like no-device and says so once on stderr.
//
// The CUDA runtime (13.x) takes a libcuda.so.1 only if it exports
// cuGetProcAddress and cuGetProcAddress_v2, through which it resolves several
// hundred driver entry points. The few defined here resolve to themselves;
// every other name resolves to a function that returns the fault's error
// code, so a caller that gets past cuInit still sees the fault.
//
// harness_driver_fault_mode() lets the harness recognise this library once
// loaded and learn which fault it has fixed, if any yet.

// Declares the driver's exported names as NVIDIA's driver build does:
// cuGetProcAddress with its original signature and no _v2/_ptsz renaming.
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "harness/env/cuda_state.h"

namespace {

// The runtime's cudaErrorInsufficientDriver, passed through unchanged.
constexpr CUresult kInsufficientDriver = static_cast<CUresult>(35);

using harness::env::CudaStateInfo;
using harness::env::RealMechanism;

// The row of cuda_state.h's table named by $HARNESS_CUDA_FAULT: one of the
// states whose mechanism is the driver stand-in.
const CudaStateInfo& ReadFault() {
  const CudaStateInfo& no_device = harness::env::InfoOf(harness::env::CudaState::kNoDevice);
  const char* value = std::getenv(harness::env::kDriverFaultEnvVar);
  if (value == nullptr || value[0] == '\0') return no_device;
  for (const CudaStateInfo& info : harness::env::kCudaStates) {
    if (info.real == RealMechanism::kDriverStandIn && info.name == value) return info;
  }
  std::fprintf(stderr,
               "libcuda.so.1 (harness stand-in): unknown HARNESS_CUDA_FAULT "
               "'%s'; using no-device\n",
               value);
  return no_device;
}

std::atomic<bool> g_mode_fixed{false};

// The fault, read from the environment on first use.
const CudaStateInfo& CurrentFault() {
  static const CudaStateInfo& fault = ReadFault();
  g_mode_fixed.store(true);
  return fault;
}

CUresult FaultCode() { return CurrentFault().fails_with_no_device ? CUDA_ERROR_NO_DEVICE : kInsufficientDriver; }

int DriverVersion() {
  const int version = CurrentFault().driver_version;
  return version == harness::env::kToolkitDriverVersion ? CUDA_VERSION : version;
}

// What every entry point without a definition below resolves to. Callers
// pass their own arguments; under the platform's C calling convention a
// function that takes none may ignore them.
CUresult Unavailable() { return FaultCode(); }

struct ErrorText {
  CUresult code;
  const char* name;
  const char* text;
};

constexpr ErrorText kErrorTexts[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {kInsufficientDriver, "CUDA_ERROR_INSUFFICIENT_DRIVER",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* FindErrorText(CUresult code) {
  for (const ErrorText& e : kErrorTexts) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

extern "C" {

CUresult cuInit(unsigned int flags) { return FaultCode(); }

CUresult cuDriverGetVersion(int* driver_version) {
  if (driver_version == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *driver_version = DriverVersion();
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
  if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *count = 0;
  return FaultCode();
}

CUresult cuGetErrorName(CUresult error, const char** name) {
  if (name == nullptr) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = FindErrorText(error);
  *name = e != nullptr ? e->name : nullptr;
  return e != nullptr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult error, const char** text) {
  if (text == nullptr) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = FindErrorText(error);
  *text = e != nullptr ? e->text : nullptr;
  return e != nullptr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetExportTable(const void** table, const CUuuid* table_id) {
  if (table != nullptr) *table = nullptr;
  return FaultCode();
}

CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags,
                             CUdriverProcAddressQueryResult* symbol_status);
CUresult cuGetProcAddress(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags);

}  // extern "C"

namespace {

struct NamedEntry {
  const char* name;
  void* fn;
};

void* Resolve(const char* symbol, int cuda_version) {
  // CUDA 12.0 gave "cuGetProcAddress" its _v2 signature (with symbol_status).
  if (std::strcmp(symbol, "cuGetProcAddress") == 0) {
    return cuda_version >= 12000 ? reinterpret_cast<void*>(&cuGetProcAddress_v2)
                                 : reinterpret_cast<void*>(&cuGetProcAddress);
  }
  static const NamedEntry kEntries[] = {
      {"cuInit", reinterpret_cast<void*>(&cuInit)},
      {"cuDriverGetVersion", reinterpret_cast<void*>(&cuDriverGetVersion)},
      {"cuDeviceGetCount", reinterpret_cast<void*>(&cuDeviceGetCount)},
      {"cuGetErrorName", reinterpret_cast<void*>(&cuGetErrorName)},
      {"cuGetErrorString", reinterpret_cast<void*>(&cuGetErrorString)},
      {"cuGetExportTable", reinterpret_cast<void*>(&cuGetExportTable)},
  };
  for (const NamedEntry& e : kEntries) {
    if (std::strcmp(e.name, symbol) == 0) return e.fn;
  }
  return reinterpret_cast<void*>(&Unavailable);
}

}  // namespace

extern "C" {

CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags,
                             CUdriverProcAddressQueryResult* symbol_status) {
  CurrentFault();
  if (symbol == nullptr || pfn == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *pfn = Resolve(symbol, cuda_version);
  if (symbol_status != nullptr) *symbol_status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}

CUresult cuGetProcAddress(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags) {
  return cuGetProcAddress_v2(symbol, pfn, cuda_version, flags, nullptr);
}

// The fault this library has fixed, or nullptr while it has not been used.
// Its presence marks a libcuda.so.1 as this stand-in.
const char* harness_driver_fault_mode() { return g_mode_fixed.load() ? CurrentFault().name.data() : nullptr; }

}  // extern "C"
