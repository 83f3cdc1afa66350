#include "harness/env/virtual_runtime/virtual_runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "harness/env/virtual_runtime/tally.h"

#if __has_include(<cuda_runtime_api.h>)
#include <cuda_runtime_api.h>
#define HAVE_CUDA_HEADERS 1
#endif

namespace harness::env {
namespace {

TEST(VirtualRuntimeSpecTest, FormatsAndParsesBack) {
  const VirtualRuntimeSpec two{2, {0, int64_t{1} << 30}};
  EXPECT_EQ(FormatVirtualRuntimeSpec(two), "2;0,1073741824");
  EXPECT_EQ(FormatVirtualRuntimeSpec({1, {}}), "1");
  for (const VirtualRuntimeSpec& spec : {two, VirtualRuntimeSpec{0, {}}, VirtualRuntimeSpec{16, {5}}}) {
    Result<VirtualRuntimeSpec> back = ParseVirtualRuntimeSpec(FormatVirtualRuntimeSpec(spec));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, spec);
  }
}

TEST(VirtualRuntimeSpecTest, RefusesWhatIsNoSpec) {
  const struct {
    const char* text;
    const char* says;
  } kBad[] = {
      {"", "device count is no number"},       {"two", "device count is no number"},
      {"-1", "device count is no number"},     {"17", "at most 16 devices"},
      {"1;", "capacity 0 is no byte count"},   {"2;1,x", "capacity 1 is no byte count"},
      {"1;1,2", "more capacities than devices"}, {"1;-5", "capacity 0 is no byte count"},
  };
  for (const auto& bad : kBad) {
    Result<VirtualRuntimeSpec> spec = ParseVirtualRuntimeSpec(bad.text);
    ASSERT_FALSE(spec.ok()) << bad.text;
    EXPECT_EQ(spec.status().error_class(), ErrorClass::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(bad.says), std::string::npos) << spec.status().message();
  }
}

#if HAVE_CUDA_HEADERS

// The library's entry points, looked up in a copy loaded with RTLD_LOCAL (so
// it interposes on nothing in this test).
struct Runtime {
  void* handle = nullptr;
  template <typename Fn>
  Fn Get(const char* name) const {
    void* f = dlsym(handle, name);
    EXPECT_NE(f, nullptr) << name;
    return reinterpret_cast<Fn>(f);
  }
};

Runtime Open() {
  Result<std::string> lib = FindVirtualCudaRuntime();
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  Runtime r;
  r.handle = lib.ok() ? dlopen(lib->c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  EXPECT_NE(r.handle, nullptr) << dlerror();
  return r;
}

constexpr int64_t kCapacity = 8 << 20;

// CUDA_VISIBLE_DEVICES renumbers the devices and cuts at the first entry
// that is none; the capacity travels with the physical device.
TEST(VirtualCudaRuntimeTest, VisibleDevicesFilterAsTheRealRuntime) {
  const pid_t child = fork();
  if (child == 0) {
    setenv(kVirtualCudaEnvVar, "2;0,8388608", 1);
    setenv("CUDA_VISIBLE_DEVICES", "1,x,0", 1);
    Runtime r = Open();
    int count = -1;
    size_t free_bytes = 0, total = 0;
    r.Get<cudaError_t (*)(int*)>("cudaGetDeviceCount")(&count);
    r.Get<cudaError_t (*)(size_t*, size_t*)>("cudaMemGetInfo")(&free_bytes, &total);
    _exit(count * 10 + (total == static_cast<size_t>(kCapacity) ? 1 : 0));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 11);  // one device: physical 1, with its 8 MiB
}

TEST(VirtualCudaRuntimeTest, DevicesCapacitiesCopiesAndTally) {
  setenv(kVirtualCudaEnvVar, "2;0,8388608", 1);
  unsetenv("CUDA_VISIBLE_DEVICES");
  Runtime r = Open();
  auto tally = r.Get<VirtualCudaTallyFn>(kVirtualCudaTallySymbol);
  auto driver_count = r.Get<int (*)(int*)>("cuDeviceGetCount");
  auto get_count = r.Get<cudaError_t (*)(int*)>("cudaGetDeviceCount");
  auto set_device = r.Get<cudaError_t (*)(int)>("cudaSetDevice");
  auto error_string = r.Get<const char* (*)(cudaError_t)>("cudaGetErrorString");
  auto malloc_fn = r.Get<cudaError_t (*)(void**, size_t)>("cudaMalloc");
  auto free_fn = r.Get<cudaError_t (*)(void*)>("cudaFree");
  auto memcpy_fn = r.Get<cudaError_t (*)(void*, const void*, size_t, cudaMemcpyKind)>("cudaMemcpy");
  auto launch = r.Get<cudaError_t (*)(const void*, dim3, dim3, void**, size_t, cudaStream_t)>("cudaLaunchKernel");
  ASSERT_TRUE(tally && driver_count && get_count && set_device && error_string && malloc_fn && free_fn && memcpy_fn &&
              launch);

  // Before any runtime call the process has used no GPU.
  VirtualCudaTally t;
  int count = -1;
  EXPECT_EQ(driver_count(&count), 3);  // CUDA_ERROR_NOT_INITIALIZED
  EXPECT_FALSE(tally(&t));

  ASSERT_EQ(get_count(&count), cudaSuccess);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(set_device(2), cudaErrorInvalidDevice);
  EXPECT_STREQ(error_string(cudaErrorInvalidDevice), "invalid device ordinal");

  void* on0 = nullptr;
  void* on1 = nullptr;
  void* too_much = nullptr;
  ASSERT_EQ(set_device(0), cudaSuccess);
  ASSERT_EQ(malloc_fn(&on0, 1000), cudaSuccess);
  ASSERT_EQ(set_device(1), cudaSuccess);
  ASSERT_EQ(malloc_fn(&on1, kCapacity - 24), cudaSuccess);
  EXPECT_EQ(malloc_fn(&too_much, 25), cudaErrorMemoryAllocation);  // over cuda:1's 8 MiB

  char host[1000];
  std::memset(host, 7, sizeof(host));
  ASSERT_EQ(memcpy_fn(on0, host, 1000, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(memcpy_fn(on1, on0, 600, cudaMemcpyDefault), cudaSuccess);
  ASSERT_EQ(memcpy_fn(host, on1, 300, cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(memcpy_fn(host, on1, 300, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host[299], 7);
  // A range that runs past its allocation is refused, not copied.
  EXPECT_EQ(memcpy_fn(host, static_cast<char*>(on0) + 900, 101, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(launch(nullptr, dim3(1), dim3(1), nullptr, 0, nullptr), cudaErrorNotSupported);
  ASSERT_EQ(free_fn(on1), cudaSuccess);

  ASSERT_TRUE(tally(&t));
  ASSERT_EQ(t.copies.size(), 3u);
  auto copy = [&](int src, int dst) {
    for (const VirtualCudaCopies& c : t.copies) {
      if (c.src == src && c.dst == dst) return std::make_pair(c.bytes, c.count);
    }
    return std::make_pair(int64_t{-1}, int64_t{-1});
  };
  EXPECT_EQ(copy(-1, 0), std::make_pair(int64_t{1000}, int64_t{1}));
  EXPECT_EQ(copy(0, 1), std::make_pair(int64_t{600}, int64_t{1}));
  EXPECT_EQ(copy(1, -1), std::make_pair(int64_t{600}, int64_t{2}));
  ASSERT_EQ(t.memory.size(), 2u);
  EXPECT_EQ(t.memory[0].device, 0);
  EXPECT_EQ(t.memory[0].current_bytes, 1000);
  EXPECT_EQ(t.memory[1].device, 1);
  EXPECT_EQ(t.memory[1].peak_bytes, kCapacity - 24);
  EXPECT_EQ(t.memory[1].current_bytes, 0);
  EXPECT_EQ(driver_count(&count), 0);
  EXPECT_EQ(count, 2);
}

#endif  // HAVE_CUDA_HEADERS

}  // namespace
}  // namespace harness::env
