#include "harness/recorder/recorder.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

#include <ATen/record_function.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include "harness/compat/torch_compat.h"
#include "harness/env/classify.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
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
  CopyTally dispatcher;
  CopyTally virtual_copies;
  CopyTally copy_kernel;  // CUDA builds: LibTorch's own CUDA copy kernel
  std::set<int> devices_touched;  // by the copies the copy kernel saw
  std::map<std::string, Transfer> by_op;
  // LibTorch 1.13 does not hand inputs of unboxed calls to callbacks; then
  // the dispatcher source attributes ops but cannot count bytes.
  bool dispatcher_saw_inputs = false;
  bool dispatcher_missed_inputs = false;
};

Session* active = nullptr;

#if HARNESS_TORCH_HAS_CUDA
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
  if (active == nullptr || !leaf) return;
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
        active->dispatcher.Add(DeviceIndexOf(inputs[1]), DeviceIndexOf(inputs[0]), bytes);
        active->by_op[op_stack.front()].Add(bytes);
        ++copies_counted;
      } else {
        active->dispatcher_missed_inputs = true;
      }
    }
  }
  if (name == "aten::_to_copy" && copy_depth == 0) to_copy_marks.push_back(copies_counted);
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
  if (name == "aten::copy_") --copy_depth;
  if (name == "aten::_to_copy" && copy_depth == 0 && !to_copy_marks.empty()) {
    const bool counted_inside = copies_counted != to_copy_marks.back();
    to_copy_marks.pop_back();
    if (!counted_inside) CountToCopyFromOutput(fn);
  }
  op_stack.pop_back();
}

void Compare(const char* what, const Transfer& a, const char* a_name, const Transfer& b, const char* b_name,
             Ledger* ledger) {
  if (a.bytes != b.bytes || a.count != b.count) {
    ledger->disagreements.push_back(std::string(what) + ": " + a_name + " " + std::to_string(a.bytes) + " B/" +
                                    std::to_string(a.count) + " copies, " + b_name + " " +
                                    std::to_string(b.bytes) + " B/" + std::to_string(b.count) + " copies");
  }
}

// Cross-checks two sources' counts of the three directions that involve a
// device.
void CompareDirections(const CopyTally& a, const char* a_name, const CopyTally& b, const char* b_name,
                       Ledger* ledger) {
  Compare("host_to_device", a.h2d, a_name, b.h2d, b_name, ledger);
  Compare("device_to_host", a.d2h, a_name, b.d2h, b_name, ledger);
  Compare("device_to_device", a.d2d, a_name, b.d2d, b_name, ledger);
}

}  // namespace

Status RunGuarded(const std::function<void()>& body) {
  try {
    body();
    return OkStatus();
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    return Status(env::ClassifyMessage(message), message);
  } catch (const std::exception& e) {
    return Status(env::ClassifyMessage(e.what()), e.what());
  } catch (...) {
    return Status(ErrorClass::kInternal, "non-standard exception");
  }
}

Status RunRecorded(const std::function<void()>& body, Ledger* ledger) {
  Session session;
  const bool virtual_backend = env::VirtualCudaLinked();
  const int devices = static_cast<int>(torch::cuda::device_count());
  std::vector<int64_t> start_level(devices, 0);
  if (virtual_backend) {
    env::ResetVirtualCudaStats();
    for (int d = 0; d < devices; ++d) start_level[d] = env::VirtualCudaMemory(d).current_bytes;
    env::SetVirtualCopyObserver([&session](const env::VirtualCopy& c) {
      std::lock_guard<std::mutex> lock(session.mu);
      session.virtual_copies.Add(c.src_device, c.dst_device, c.bytes);
      if (session.dispatcher_missed_inputs && !op_stack.empty()) {
        session.by_op[op_stack.front()].Add(c.bytes);
      }
    });
  }
#if HARNESS_TORCH_HAS_CUDA
  // Initialise CUDA before recording: the caching allocator's statistics
  // exist only afterwards, and CUDA's start-up is not part of any load.
  if (devices > 0) {
    at::globalContext().lazyInitCUDA();
    InstallCudaCopyCounter();
  }
  namespace cca = c10::cuda::CUDACachingAllocator;
  for (int d = 0; d < devices; ++d) {
    try {
      cca::resetPeakStats(d);
      cca::resetAccumulatedStats(d);
      start_level[d] = cca::getDeviceStats(d).allocated_bytes[0].current;
    } catch (const c10::Error&) {
      start_level[d] = 0;
    }
  }
  // The driver's own count of real GPU copies, where CUPTI can trace.
  Status cupti_started(ErrorClass::kEnvNotRealized, "no CUDA device");
  if (devices > 0 && !virtual_backend) cupti_started = cupti::ActivityTracer::Get().Start({.copies = true});
#endif
  CountingCpuAllocator& host = CountingCpuAllocator::Installed();
  host.Start();
  active = &session;
  at::CallbackHandle handle = at::addGlobalCallback(
      at::RecordFunctionCallback(&OnStart, &OnEnd)
          .needsInputs(true)
          .needsOutputs(true)
          .scopes({at::RecordScope::FUNCTION}));
  auto t0 = std::chrono::steady_clock::now();
  Status status = RunGuarded(body);
  auto t1 = std::chrono::steady_clock::now();
  at::removeCallback(handle);
  ledger->memory["cpu"] = host.Stop();
  active = nullptr;
  op_stack.clear();
  copy_depth = 0;
  to_copy_marks.clear();

  ledger->wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  const bool dispatcher_counts = !session.dispatcher_missed_inputs;
  ledger->sources.push_back(dispatcher_counts ? "dispatcher" : "dispatcher(ops only)");
  ledger->sources.push_back("cpu-allocator");
  ledger->SetCopies(session.dispatcher);
  ledger->by_op = session.by_op;
  if (virtual_backend) {
    env::SetVirtualCopyObserver(nullptr);
    ledger->sources.push_back("virtual");
    const CopyTally& v = session.virtual_copies;
    if (dispatcher_counts && session.dispatcher_saw_inputs) {
      CompareDirections(session.dispatcher, "dispatcher", v, "virtual", ledger);
    } else {
      ledger->SetCopies(v);
    }
    for (int d = 0; d < devices; ++d) {
      env::VirtualDeviceMemory m = env::VirtualCudaMemory(d);
      ledger->memory[DeviceName(d)] = {m.allocated_bytes, m.peak_bytes - start_level[d],
                                       m.current_bytes - start_level[d]};
    }
  }
#if HARNESS_TORCH_HAS_CUDA
  if (devices > 0) {
    // The copy kernel sees every device copy; it is the count of record.
    // The dispatcher cross-checks it where LibTorch handed it the inputs.
    ledger->sources.push_back("cuda-copy-kernel");
    const CopyTally& k = session.copy_kernel;
    if (dispatcher_counts && session.dispatcher_saw_inputs) {
      CompareDirections(session.dispatcher, "dispatcher", k, "cuda-copy-kernel", ledger);
    }
    Transfer h2h = ledger->host_to_host;
    ledger->SetCopies(k);
    ledger->host_to_host = h2h;
    ledger->sources.push_back("cuda-caching-allocator");
    if (cupti_started.ok()) {
      // CUPTI writes a record once its copy has completed. Only the devices
      // the load copied to or from: synchronising another would create a
      // context on it.
      Status synced = RunGuarded([&] {
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
        CompareDirections(k, "cuda-copy-kernel", CopyTally::FromDriver(*driver), "cupti", ledger);
      }
    } else {
      ledger->notes["cupti"] = "not traced: " + cupti_started.message();
    }
  }
  for (int d = 0; d < devices; ++d) {
    try {
      const auto stats = cca::getDeviceStats(d);
      const auto& a = stats.allocated_bytes[0];
      ledger->memory[DeviceName(d)] = {a.allocated, a.peak - start_level[d], a.current - start_level[d]};
    } catch (const c10::Error&) {
      ledger->memory[DeviceName(d)] = {};  // CUDA never initialised: nothing allocated
    }
  }
#endif
  return status;
}

}  // namespace harness::recorder
