#include "harness/recorder/recorder.h"

#include <ATen/record_function.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

#include "harness/base/device.h"
#include "harness/base/exception_boundary.h"
#include "harness/compat/torch_compat.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
#include "harness/env/virtual_runtime/virtual_runtime.h"
#include "harness/recorder/cupti/activity_tracer.h"

#if HARNESS_TORCH_HAS_CUDA
#include <ATen/Context.h>
#include <ATen/TensorIterator.h>
#include <ATen/native/Copy.h>
#include <ATen/native/DispatchStub.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace harness::recorder {
namespace {

struct Session {
  std::mutex mu;
  Copies dispatcher;
  Copies virtual_copies;
  Copies copy_kernel;             // CUDA builds: LibTorch's own CUDA copy kernel
  std::set<int> devices_touched;  // by the copies the copy kernel saw
  std::map<std::string, Transfer> by_op;
  // LibTorch 1.13 does not hand inputs of unboxed calls to callbacks; then
  // the dispatcher source attributes ops but cannot count bytes.
  bool dispatcher_saw_inputs = false;
  bool dispatcher_missed_inputs = false;
};

Session* active = nullptr;

#if HARNESS_TORCH_HAS_CUDA
namespace cca = c10::cuda::CUDACachingAllocator;

// The copy-kernel source of CUDA builds: every copy that involves a CUDA
// tensor reaches the CUDA entry of at::native::copy_stub (Copy.cpp's
// copy_impl), whatever op asked for it. The recorder puts a counting wrapper
// in front of LibTorch's kernel, once, the first time it records.
at::native::copy_fn original_cuda_copy = nullptr;
// Set by every counted copy: tells an enclosing one that it was not a leaf.
thread_local bool inner_copy_ran = false;

// Counts leaf copies only. LibTorch's CUDA copy kernel calls copy_ again for
// a copy that needs temporaries (non-contiguous, or changing dtype): the
// outer call moves no bytes of its own, the inner ones do.
void CountingCudaCopy(at::TensorIterator& iter, bool non_blocking) {
  const at::TensorBase& dst = iter.tensor_base(0);
  const at::TensorBase& src = iter.tensor_base(1);
  const int64_t bytes = static_cast<int64_t>(src.numel()) * int64_t(src.element_size());
  const int src_index = src.is_cuda() ? src.device().index() : -1;
  const int dst_index = dst.is_cuda() ? dst.device().index() : -1;
  inner_copy_ran = false;
  original_cuda_copy(iter, non_blocking);
  const bool leaf = !inner_copy_ran;
  inner_copy_ran = true;
  if (active == nullptr || !leaf || bytes == 0) return;  // zero bytes: see OnStart
  std::lock_guard<std::mutex> lock(active->mu);
  active->copy_kernel.Add(src_index, dst_index, bytes);
  if (src_index >= 0) active->devices_touched.insert(src_index);
  if (dst_index >= 0) active->devices_touched.insert(dst_index);
}

void InstallCudaCopyCounter() {
  static const bool installed = [] {
    void*& entry = compat::CudaDispatchEntry(at::native::copy_stub);
    original_cuda_copy = reinterpret_cast<at::native::copy_fn>(entry);
    if (original_cuda_copy != nullptr) entry = reinterpret_cast<void*>(&CountingCudaCopy);
    return true;
  }();
  (void)installed;
}
#endif

// The allocator source for host memory: wraps LibTorch's CPU allocator and
// counts what is allocated while a recording runs (checkpoint records read
// from the archive, staging buffers, CPU tensors).
class CountingCpuAllocator final : public c10::Allocator {
 public:
  explicit CountingCpuAllocator(c10::Allocator* base) : base_(base) {}

  c10::DataPtr allocate(size_t n) HARNESS_ALLOCATE_CONST override {
    c10::DataPtr inner = base_->allocate(n);
    if (!recording_.load(std::memory_order_relaxed)) return inner;
    void* data = inner.get();
    c10::Device device = inner.device();
    auto* ctx = new Counted{std::move(inner), static_cast<int64_t>(n), this};
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ += ctx->bytes;
      allocated_ += ctx->bytes;
      if (current_ > peak_) peak_ = current_;
    }
    return c10::DataPtr(data, ctx, &Free, device);
  }
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }
  HARNESS_ALLOCATOR_COPY_DATA

  void Start() {
    std::lock_guard<std::mutex> lock(mu_);
    start_ = peak_ = current_;
    allocated_ = 0;
    recording_ = true;
  }
  DeviceMemory Stop() {
    recording_ = false;
    std::lock_guard<std::mutex> lock(mu_);
    return {allocated_, peak_ - start_, current_ - start_};
  }

  static CountingCpuAllocator& Installed() {
    static CountingCpuAllocator* allocator = [] {
      auto* a = new CountingCpuAllocator(c10::GetCPUAllocator());
      c10::SetCPUAllocator(a, /*priority=*/100);
      return a;
    }();
    return *allocator;
  }

 private:
  struct Counted {
    c10::DataPtr inner;
    int64_t bytes;
    const CountingCpuAllocator* owner;
  };
  static void Free(void* raw) {
    auto* ctx = static_cast<Counted*>(raw);
    {
      std::lock_guard<std::mutex> lock(ctx->owner->mu_);
      ctx->owner->current_ -= ctx->bytes;
    }
    delete ctx;  // frees through the base allocator's deleter
  }

  c10::Allocator* base_;
  std::atomic<bool> recording_{false};
  // Mutable: allocate() is const in LibTorch 1.13.
  mutable std::mutex mu_;
  mutable int64_t current_ = 0, peak_ = 0, start_ = 0, allocated_ = 0;
};

thread_local std::vector<std::string> op_stack;
thread_local int copy_depth = 0;
// Copies counted so far on this thread, and the count when each open
// aten::_to_copy started: LibTorch 2.x runs the copy_ of a device-changing
// _to_copy without passing it through the observed dispatcher entry, so an
// _to_copy that ends without a counted copy_ is counted from its output.
thread_local int64_t copies_counted = 0;
thread_local std::vector<int64_t> to_copy_marks;
// Copies the virtual backend attributed to an op on this thread, and the
// count when each open aten::_to_copy started: one it attributed is not
// counted again from the _to_copy's output.
thread_local int64_t virtual_attributed = 0;
thread_local std::vector<int64_t> virtual_marks;
// Whether the dispatcher counted the outermost copy_ now running on this
// thread. LibTorch 1.13 hands some copy_ calls their inputs and not others;
// a copy the dispatcher did not count is attributed to its op by the
// virtual backend's count instead, so each copy reaches by_op exactly once.
thread_local bool dispatcher_counted_this_copy = false;

int DeviceIndexOf(const c10::IValue& v) {
  if (!v.isTensor()) return -2;
  const at::Tensor& t = v.toTensor();
  if (t.device().is_cpu()) return -1;
  return t.device().index();
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  std::string name = fn.name();
  op_stack.push_back(name);
  if (name == "aten::copy_") {
    if (copy_depth++ == 0 && active != nullptr) {
      c10::ArrayRef<const c10::IValue> inputs;
      bool have_inputs = false;
      try {
        inputs = fn.inputs();
        have_inputs = true;
      } catch (const c10::Error&) {
      }
      std::lock_guard<std::mutex> lock(active->mu);
      if (have_inputs && inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor()) {
        const at::Tensor& src = inputs[1].toTensor();
        int64_t bytes = src.numel() * int64_t(src.element_size());
        active->dispatcher_saw_inputs = true;
        // A copy of zero bytes moves nothing, and no device or driver sees
        // it: no source counts it.
        if (bytes > 0) {
          active->dispatcher.Add(DeviceIndexOf(inputs[1]), DeviceIndexOf(inputs[0]), bytes);
          active->by_op[op_stack.front()].Add(bytes);
          ++copies_counted;
        }
        dispatcher_counted_this_copy = true;
      } else {
        active->dispatcher_missed_inputs = true;
        dispatcher_counted_this_copy = false;
      }
    }
  }
  if (name == "aten::_to_copy" && copy_depth == 0) {
    to_copy_marks.push_back(copies_counted);
    virtual_marks.push_back(virtual_attributed);
  }
  return nullptr;
}

void CountToCopyFromOutput(const at::RecordFunction& fn) {
  if (active == nullptr) return;
  try {
    auto inputs = fn.inputs();
    const auto& outputs = fn.outputs();
    if (inputs.empty() || outputs.empty() || !inputs[0].isTensor() || !outputs[0].isTensor()) return;
    const at::Tensor& src = inputs[0].toTensor();
    const at::Tensor& dst = outputs[0].toTensor();
    if (src.is_same(dst)) return;  // no copy was needed
    int64_t bytes = src.numel() * int64_t(src.element_size());
    std::lock_guard<std::mutex> lock(active->mu);
    active->dispatcher_saw_inputs = true;
    if (bytes == 0) return;  // moves nothing (see OnStart)
    active->dispatcher.Add(DeviceIndexOf(inputs[0]), DeviceIndexOf(outputs[0]), bytes);
    active->by_op[op_stack.front()].Add(bytes);
    ++copies_counted;
  } catch (const c10::Error&) {
    // Inputs or outputs not recorded (LibTorch 1.13): the copy_ rule applies.
  }
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext*) {
  if (op_stack.empty()) return;
  const std::string& name = op_stack.back();
  if (name == "aten::copy_" && --copy_depth == 0) dispatcher_counted_this_copy = false;
  if (name == "aten::_to_copy" && copy_depth == 0 && !to_copy_marks.empty()) {
    const bool counted_inside = copies_counted != to_copy_marks.back() || virtual_attributed != virtual_marks.back();
    to_copy_marks.pop_back();
    virtual_marks.pop_back();
    if (!counted_inside) CountToCopyFromOutput(fn);
  }
  op_stack.pop_back();
}

// Cross-checks two sources' counts of the three directions that involve a
// device; a difference goes into the ledger's disagreements.
void CompareDirections(const Copies& a, const char* a_name, const Copies& b, const char* b_name, Ledger* ledger) {
  for (Direction d : {Direction::kHostToDevice, Direction::kDeviceToHost, Direction::kDeviceToDevice}) {
    if (a[d] == b[d]) continue;
    ledger->disagreements.push_back(std::string(DirectionName(d)) + ": " + a_name + " " + std::to_string(a[d].bytes) +
                                    " B/" + std::to_string(a[d].count) + " copies, " + b_name + " " +
                                    std::to_string(b[d].bytes) + " B/" + std::to_string(b[d].count) + " copies");
  }
}

// The dispatcher source: RecordFunction callbacks for the whole load.
class DispatcherSource {
 public:
  explicit DispatcherSource(Session* session) {
    active = session;
    handle_ = at::addGlobalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd)
                                        .needsInputs(true)
                                        .needsOutputs(true)
                                        .scopes({at::RecordScope::FUNCTION}));
  }
  void Stop() {
    at::removeCallback(handle_);
    active = nullptr;
    op_stack.clear();
    copy_depth = 0;
    to_copy_marks.clear();
    virtual_marks.clear();
    dispatcher_counted_this_copy = false;
  }
  // The dispatcher's copies are the ledger's unless a later source owns them.
  static void Finish(const Session& session, Ledger* ledger) {
    ledger->sources.push_back(session.dispatcher_missed_inputs ? "dispatcher(ops only)" : "dispatcher");
    ledger->copies = session.dispatcher;
    ledger->by_op = session.by_op;
  }

 private:
  at::CallbackHandle handle_;
};

// Whether the dispatcher counted bytes, so it can cross-check another source.
bool DispatcherCounted(const Session& session) {
  return !session.dispatcher_missed_inputs && session.dispatcher_saw_inputs;
}

// The virtual backend (CPU-only leg): its copy kernel and allocator.
class VirtualSource {
 public:
  VirtualSource(Session* session, int devices) : devices_(devices), start_level_(devices, 0) {
    if (!env::VirtualCudaLinked()) return;
    env::ResetVirtualCudaStats();
    for (int d = 0; d < devices_; ++d) start_level_[d] = env::VirtualCudaMemory(d).current_bytes;
    env::SetVirtualCopyObserver([session](const env::VirtualCopy& c) {
      std::lock_guard<std::mutex> lock(session->mu);
      session->virtual_copies.Add(c.src_device, c.dst_device, c.bytes);
      if (!dispatcher_counted_this_copy && !op_stack.empty()) {
        session->by_op[op_stack.front()].Add(c.bytes);
        ++virtual_attributed;
      }
    });
  }
  void Finish(const Session& session, Ledger* ledger) const {
    if (!env::VirtualCudaLinked()) return;
    env::SetVirtualCopyObserver(nullptr);
    ledger->sources.push_back("virtual");
    if (DispatcherCounted(session)) {
      CompareDirections(session.dispatcher, "dispatcher", session.virtual_copies, "virtual", ledger);
    } else {
      ledger->copies = session.virtual_copies;
    }
    for (int d = 0; d < devices_; ++d) {
      const env::VirtualDeviceMemory m = env::VirtualCudaMemory(d);
      ledger->memory[DeviceNameOf(d)] = {m.allocated_bytes, m.peak_bytes - start_level_[d],
                                         m.current_bytes - start_level_[d]};
    }
  }

 private:
  int devices_;
  std::vector<int64_t> start_level_;
};

#if HARNESS_TORCH_HAS_CUDA
// Real CUDA devices: LibTorch's copy kernel (the count of record), its
// caching allocator, and CUPTI's activity records to cross-check both.
class CudaSources {
 public:
  explicit CudaSources(int devices) : devices_(devices), start_level_(devices, 0) {
    // Initialise CUDA before recording: the caching allocator's statistics
    // exist only afterwards, and CUDA's start-up is not part of any load.
    if (devices_ > 0) {
      at::globalContext().lazyInitCUDA();
      InstallCudaCopyCounter();
    }
    for (int d = 0; d < devices_; ++d) {
      try {
        cca::resetPeakStats(d);
        cca::resetAccumulatedStats(d);
        start_level_[d] = cca::getDeviceStats(d).allocated_bytes[0].current;
      } catch (const c10::Error&) {
        start_level_[d] = 0;
      }
    }
    if (devices_ > 0 && env::VirtualCudaRuntimeLoaded()) {
      cupti_started_ = Status(ErrorClass::kEnvNotRealized, "virtual devices (the virtual CUDA runtime): no driver to trace");
    } else if (devices_ > 0 && !env::VirtualCudaLinked()) {
      cupti_started_ = cupti::ActivityTracer::Get().Start({.copies = true});
    }
  }

  void Finish(const Session& session, Ledger* ledger) {
    if (devices_ > 0) {
      // The copy kernel sees every device copy; the dispatcher cross-checks
      // it where LibTorch handed it the inputs.
      ledger->sources.push_back("cuda-copy-kernel");
      const Copies& k = session.copy_kernel;
      if (DispatcherCounted(session))
        CompareDirections(session.dispatcher, "dispatcher", k, "cuda-copy-kernel", ledger);
      const Transfer host_to_host = ledger->copies[Direction::kHostToHost];
      ledger->copies = k;
      ledger->copies[Direction::kHostToHost] = host_to_host;
      ledger->sources.push_back("cuda-caching-allocator");
      FinishCupti(session, ledger);
    }
    for (int d = 0; d < devices_; ++d) {
      try {
        const auto stats = cca::getDeviceStats(d);
        const auto& a = stats.allocated_bytes[0];
        ledger->memory[DeviceNameOf(d)] = {a.allocated, a.peak - start_level_[d], a.current - start_level_[d]};
      } catch (const c10::Error&) {
        ledger->memory[DeviceNameOf(d)] = {};  // CUDA never initialised: nothing allocated
      }
    }
  }

 private:
  void FinishCupti(const Session& session, Ledger* ledger) {
    if (!cupti_started_.ok()) {
      ledger->notes["cupti"] = "not traced: " + cupti_started_.message();
      return;
    }
    // CUPTI writes a record once its copy has completed. Only the devices
    // the load copied to or from: synchronising another would create a
    // context on it.
    const Status synced = RunGuarded([&] {
      for (int d : session.devices_touched) torch::cuda::synchronize(d);
    });
    Result<cupti::DriverTally> driver = cupti::ActivityTracer::Get().Stop();
    if (!synced.ok()) {
      ledger->notes["cupti"] = "not compared: synchronising the devices failed: " + synced.message();
    } else if (!driver.ok()) {
      ledger->notes["cupti"] = "not compared: " + driver.status().message();
    } else if (driver->dropped_records > 0) {
      ledger->notes["cupti"] =
          "not compared: " + std::to_string(driver->dropped_records) + " records dropped, its counts are low";
    } else {
      ledger->sources.push_back("cupti");
      CompareDirections(session.copy_kernel, "cuda-copy-kernel", Copies::FromDriver(*driver), "cupti", ledger);
    }
  }

  int devices_;
  std::vector<int64_t> start_level_;
  Status cupti_started_{ErrorClass::kEnvNotRealized, "no CUDA device"};
};
#else
// CPU-only LibTorch: no real devices to record.
class CudaSources {
 public:
  explicit CudaSources(int) {}
  void Finish(const Session&, Ledger*) {}
};
#endif

}  // namespace

Status RunRecorded(const std::function<void()>& body, Ledger* ledger) {
  Session session;
  const int devices = static_cast<int>(torch::cuda::device_count());
  VirtualSource virtual_devices(&session, devices);
  CudaSources cuda(devices);
  CountingCpuAllocator& host = CountingCpuAllocator::Installed();
  host.Start();
  DispatcherSource dispatcher(&session);
  const auto t0 = std::chrono::steady_clock::now();
  const Status status = RunGuarded(body);
  const auto t1 = std::chrono::steady_clock::now();
  dispatcher.Stop();
  ledger->memory["cpu"] = host.Stop();
  ledger->wall_seconds = std::chrono::duration<double>(t1 - t0).count();

  // Later sources take over or cross-check the earlier ones' copies.
  DispatcherSource::Finish(session, ledger);
  ledger->sources.push_back("cpu-allocator");
  virtual_devices.Finish(session, ledger);
  cuda.Finish(session, ledger);
  return status;
}

}  // namespace harness::recorder
