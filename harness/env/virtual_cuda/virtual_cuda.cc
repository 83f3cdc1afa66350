// Registration of the virtual CUDA backend into a CPU-only LibTorch:
//   - a DeviceGuardImplInterface for kCUDA (device count, current device);
//   - CUDAHooks (is_available, device_count, the device allocator);
//   - CUDA-key kernels for the factory and view ops loading needs;
//   - the CUDA entry of copy_stub, where every transfer is counted.
#include "harness/env/virtual_cuda/virtual_cuda.h"

#include <ATen/EmptyTensor.h>
#include <ATen/TensorIterator.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/native/Copy.h>
#include <ATen/native/DispatchStub.h>
#include <ATen/ops/_reshape_alias_native.h>
#include <ATen/ops/as_strided_native.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/set_native.h>
#include <ATen/ops/view_native.h>
#include <c10/core/Allocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "harness/base/bytes.h"
#include "harness/compat/torch_compat.h"

namespace harness::env {
namespace {

constexpr int kMaxDevices = 16;

struct State {
  std::mutex mu;
  VirtualCudaConfig config;
  std::array<VirtualDeviceMemory, kMaxDevices> memory{};
  VirtualCopyObserver observer;
};

State& GetState() {
  static State* state = new State();
  return *state;
}

int DeviceCount() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.config.device_count;
}

// The first line of what a real CUDA build says; see c10/cuda/CUDAException.h.
[[noreturn]] void ThrowInvalidOrdinal(int index) {
  TORCH_CHECK(false,
              "CUDA error: invalid device ordinal\n"
              "CUDA kernel errors might be asynchronously reported at some "
              "other API call, so the stacktrace below might be incorrect.\n"
              "(virtual device cuda:",
              index, " requested, ", DeviceCount(), " virtual device(s) exist)");
}

void CheckCudaAvailable() {
  // A CUDA build without a usable GPU says this (c10/cuda/CUDAFunctions.cpp).
  TORCH_CHECK(DeviceCount() > 0, "No CUDA GPUs are available");
}

void CheckOrdinal(int index) {
  CheckCudaAvailable();
  if (index < 0 || index >= DeviceCount()) ThrowInvalidOrdinal(index);
}

thread_local int current_device = 0;

struct VirtualGuardImpl final : public c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return c10::DeviceType::CUDA; }
  c10::Device exchangeDevice(c10::Device d) const override {
    c10::Device old = getDevice();
    setDevice(d);
    return old;
  }
  c10::Device getDevice() const override {
    CheckCudaAvailable();
    return c10::Device(c10::DeviceType::CUDA, current_device);
  }
  void setDevice(c10::Device d) const override {
    TORCH_INTERNAL_ASSERT(d.is_cuda());
    int index = d.has_index() ? d.index() : 0;
    CheckOrdinal(index);
    current_device = index;
  }
  void uncheckedSetDevice(c10::Device d) const noexcept override {
    if (d.has_index() && d.index() >= 0 && d.index() < DeviceCount()) {
      current_device = d.index();
    }
  }
  c10::Stream getStream(c10::Device d) const noexcept override { return c10::Stream(c10::Stream::DEFAULT, d); }
  c10::Stream exchangeStream(c10::Stream s) const noexcept override { return s; }
  c10::DeviceIndex deviceCount() const noexcept override { return static_cast<c10::DeviceIndex>(DeviceCount()); }
};

C10_REGISTER_GUARD_IMPL(CUDA, VirtualGuardImpl);

struct AllocationContext {
  int device;
  int64_t bytes;
  void* data;
};

void FreeVirtual(void* raw) {
  auto* ctx = static_cast<AllocationContext*>(raw);
  {
    State& s = GetState();
    std::lock_guard<std::mutex> lock(s.mu);
    s.memory[ctx->device].current_bytes -= ctx->bytes;
  }
  std::free(ctx->data);
  delete ctx;
}

class VirtualAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) HARNESS_ALLOCATE_CONST override {
    int device = current_device;
    CheckOrdinal(device);
    State& s = GetState();
    int64_t capacity = 0;
    int64_t in_use = 0;
    bool out_of_memory = false;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      VirtualDeviceMemory& m = s.memory[device];
      if (device < static_cast<int>(s.config.capacity_bytes.size())) {
        capacity = s.config.capacity_bytes[device];
      }
      in_use = m.current_bytes;
      out_of_memory = capacity > 0 && m.current_bytes + static_cast<int64_t>(n) > capacity;
      if (!out_of_memory) {
        m.current_bytes += n;
        m.allocated_bytes += n;
        m.allocation_count += 1;
        if (m.current_bytes > m.peak_bytes) m.peak_bytes = m.current_bytes;
      }
    }
    // The wording of a real CUDA build's caching allocator.
    TORCH_CHECK_WITH(OutOfMemoryError, !out_of_memory, "CUDA out of memory. Tried to allocate ", HumanBytes(n),
                     " (GPU ", device, "; ", HumanBytes(capacity), " total capacity; ", HumanBytes(in_use),
                     " already allocated; virtual device)");
    void* data = n == 0 ? nullptr : std::aligned_alloc(64, (n + 63) / 64 * 64);
    auto* ctx = new AllocationContext{device, static_cast<int64_t>(n), data};
    return c10::DataPtr(data, ctx, &FreeVirtual, c10::Device(c10::DeviceType::CUDA, device));
  }
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }
  HARNESS_ALLOCATOR_COPY_DATA
};

VirtualAllocator& Allocator() {
  static VirtualAllocator* allocator = new VirtualAllocator();
  return *allocator;
}

int DeviceIndexOf(c10::optional<c10::Device> device) {
  if (device.has_value() && device->has_index()) return device->index();
  return current_device;
}

// Makes cuda:K current for the allocation and restores the old one after.
struct ScopedDevice {
  explicit ScopedDevice(int index) : saved(current_device) {
    CheckOrdinal(index);
    current_device = index;
  }
  ~ScopedDevice() { current_device = saved; }
  int saved;
};

at::Tensor EmptyVirtual(c10::SymIntArrayRef size, c10::optional<at::ScalarType> dtype, c10::optional<at::Layout> layout,
                        c10::optional<at::Device> device, c10::optional<bool> pin_memory,
                        c10::optional<at::MemoryFormat> memory_format) {
  ScopedDevice scope(DeviceIndexOf(device));
  c10::DispatchKeySet keys(c10::DispatchKey::CUDA);
  return at::detail::empty_generic(c10::asIntArrayRefSlow(size), &Allocator(), keys, c10::dtype_or_default(dtype),
                                   memory_format);
}

at::Tensor EmptyStridedVirtual(c10::SymIntArrayRef size, c10::SymIntArrayRef stride,
                               c10::optional<at::ScalarType> dtype, c10::optional<at::Layout> layout,
                               c10::optional<at::Device> device, c10::optional<bool> pin_memory) {
  ScopedDevice scope(DeviceIndexOf(device));
  c10::DispatchKeySet keys(c10::DispatchKey::CUDA);
  return at::detail::empty_strided_generic(c10::asIntArrayRefSlow(size), c10::asIntArrayRefSlow(stride), &Allocator(),
                                           keys, c10::dtype_or_default(dtype));
}

at::Tensor& SetStorageVirtual(at::Tensor& self, at::Storage source, c10::SymInt storage_offset,
                              c10::SymIntArrayRef size, c10::SymIntArrayRef stride) {
  return at::native::set_storage_cpu_(self, std::move(source), storage_offset.expect_int(),
                                      c10::asIntArrayRefSlow(size), c10::asIntArrayRefSlow(stride));
}

at::Tensor AsStridedVirtual(const at::Tensor& self, c10::SymIntArrayRef size, c10::SymIntArrayRef stride,
                            c10::optional<c10::SymInt> storage_offset) {
  c10::optional<int64_t> offset;
  if (storage_offset.has_value()) offset = storage_offset->expect_int();
  return at::native::as_strided_tensorimpl(self, c10::asIntArrayRefSlow(size), c10::asIntArrayRefSlow(stride), offset);
}

at::Tensor ViewVirtual(const at::Tensor& self, c10::SymIntArrayRef size) {
  return at::native::view(self, c10::asIntArrayRefSlow(size));
}

at::Tensor ReshapeAliasVirtual(const at::Tensor& self, c10::SymIntArrayRef size, c10::SymIntArrayRef stride) {
  return at::native::_reshape_alias(self, c10::asIntArrayRefSlow(size), c10::asIntArrayRefSlow(stride));
}

TORCH_LIBRARY_IMPL(aten, CUDA, m) {
  m.impl("empty.memory_format", TORCH_FN(EmptyVirtual));
  m.impl("empty_strided", TORCH_FN(EmptyStridedVirtual));
  m.impl("set_.source_Storage_storage_offset", TORCH_FN(SetStorageVirtual));
  m.impl("as_strided", TORCH_FN(AsStridedVirtual));
  m.impl("view", TORCH_FN(ViewVirtual));
  m.impl("_reshape_alias", TORCH_FN(ReshapeAliasVirtual));
}

// Host view of a (virtual or CPU) tensor: same memory, CPU device.
at::Tensor HostAlias(const at::TensorBase& t) {
  return at::from_blob(t.data_ptr(), t.sizes(), t.strides(), at::TensorOptions().dtype(t.scalar_type()));
}

void CopyVirtual(at::TensorIterator& iter, bool /*non_blocking*/) {
  at::TensorBase dst = iter.tensor_base(0);
  at::TensorBase src = iter.tensor_base(1);
  VirtualCopy copy;
  copy.src_device = src.is_cuda() ? src.device().index() : -1;
  copy.dst_device = dst.is_cuda() ? dst.device().index() : -1;
  copy.bytes = static_cast<int64_t>(src.numel()) * src.element_size();
  if (copy.src_device >= 0) CheckOrdinal(copy.src_device);
  if (copy.dst_device >= 0) CheckOrdinal(copy.dst_device);
  HostAlias(dst).copy_(HostAlias(src));
  VirtualCopyObserver observer;
  {
    State& s = GetState();
    std::lock_guard<std::mutex> lock(s.mu);
    observer = s.observer;
  }
  if (observer) observer(copy);
}

at::native::RegisterCUDADispatch<decltype(at::native::copy_stub)> register_copy(at::native::copy_stub, &CopyVirtual);

}  // namespace

bool VirtualCudaLinked() { return true; }

void ConfigureVirtualCuda(const VirtualCudaConfig& config) {
  TORCH_CHECK(config.device_count >= 0 && config.device_count <= kMaxDevices, "virtual device count must be in [0, ",
              kMaxDevices, "]");
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.config = config;
  if (current_device >= config.device_count) current_device = 0;
}

VirtualCudaConfig CurrentVirtualCudaConfig() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.config;
}

VirtualDeviceMemory VirtualCudaMemory(int device) {
  if (device < 0 || device >= kMaxDevices) return {};
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.memory[device];
}

void ResetVirtualCudaStats() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  for (VirtualDeviceMemory& m : s.memory) {
    m.allocated_bytes = 0;
    m.allocation_count = 0;
    m.peak_bytes = m.current_bytes;
  }
}

void SetVirtualCopyObserver(VirtualCopyObserver observer) {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.observer = std::move(observer);
}

}  // namespace harness::env

namespace at {
namespace {

// getCUDAHooks() looks up the registry entry named "CUDAHooks"; a CPU-only
// build registers none, so this one is used.
struct CUDAHooks final : public CUDAHooksInterface {
  explicit CUDAHooks(CUDAHooksArgs) {}
  void initCUDA() const override {}
  bool hasCUDA() const override { return harness::env::DeviceCount() > 0; }
  int getNumGPUs() const override { return harness::env::DeviceCount(); }
  int64_t current_device() const override { return harness::env::current_device; }
  bool hasPrimaryContext(int64_t index) const override { return index >= 0 && index < harness::env::DeviceCount(); }
  Allocator* getCUDADeviceAllocator() const override { return &harness::env::Allocator(); }
  Device getDeviceFromPtr(void* /*data*/) const override {
    return Device(DeviceType::CUDA, harness::env::current_device);
  }
  void deviceSynchronize(int64_t /*index*/) const override {}
};

}  // namespace

REGISTER_CUDA_HOOKS(CUDAHooks);

}  // namespace at
