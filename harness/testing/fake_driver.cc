// A libcuda.so.1 that is not the harness stand-in: it plays a working NVIDIA
// driver with one device. driver_fault_test uses it as the real driver that
// InstallDriverFault must refuse to replace; the CUPTI injection tests
// (harness/recorder/cupti) as a driver on hosts without a GPU. With
// FAKE_DRIVER_INJECTS=1 its cuInit does what the real driver does with
// CUDA_INJECTION64_PATH: dlopens that library and calls InitializeInjection.
// Without it, it is a driver that ignores the variable.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace {
bool initialised = false;
}  // namespace

extern "C" {

__attribute__((visibility("default"))) int cuInit(unsigned int) {
  if (initialised) return 0;
  initialised = true;
  const char* injects = std::getenv("FAKE_DRIVER_INJECTS");
  const char* path = std::getenv("CUDA_INJECTION64_PATH");
  if (injects != nullptr && std::strcmp(injects, "1") == 0 && path != nullptr) {
    if (void* lib = dlopen(path, RTLD_NOW)) {
      using Init = int (*)();
      if (auto init = reinterpret_cast<Init>(dlsym(lib, "InitializeInjection"))) init();
    }
  }
  return 0;
}

__attribute__((visibility("default"))) int cuDeviceGetCount(int* count) {
  if (count == nullptr) return 1;  // CUDA_ERROR_INVALID_VALUE
  if (!initialised) return 3;      // CUDA_ERROR_NOT_INITIALIZED
  *count = 1;
  return 0;
}

}  // extern "C"
