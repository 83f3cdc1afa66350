// libharness_cupti_injection.so: records the memory copies and device
// allocations of a process the harness did not write (a Python torch.load, a
// user's own loader), through CUPTI, and leaves one JSON report per process
// image.
//
// The harness starts such a loader with (see injected.h):
//   LD_PRELOAD=<this library>            every process of the command loads it
//   CUDA_INJECTION64_PATH=<this library> the driver calls InitializeInjection
//                                        in cuInit, before any CUDA work
//   HARNESS_CUPTI_OUTPUT_DIR=<dir>       where the reports go
//
// Every process image writes <dir>/<pid>-<nonce>.started when it begins (at
// load, and in the child of a fork) and <dir>/<pid>-<nonce>.json (a
// ProcessReport) when it ends: at exit(), at _exit() / _Exit(), or at an
// exec*() that replaces it. Those three are interposed here because shells
// (dash) and Python's os._exit leave through _exit, and a process may exec
// after doing CUDA work. A .started without a .json is an image that was
// killed, crashed, or was still running: nothing it did is known.
//
// The preload is what lets a process that never initialised CUDA say so: the
// driver calls InitializeInjection only in cuInit, so without it such a
// process would leave no trace and "no transfers" would be a guess.
//
// On a machine without a GPU the harness preloads the virtual CUDA runtime
// (harness/env/virtual_runtime) beside this library. A process image that
// called that runtime reports its counts instead of CUPTI's, in the same
// report; nothing else changes.
//
// Also exported:
//   harness_cupti_begin_image(dir)  for a process forked by the Python fork
//       server: reports from here on into `dir`.
//   harness_cupti_mark_loaded()  a loader that checks its tensors after
//       loading (e.g. copies them to the host for a digest) calls this in
//       between; the report then counts only what came before.
//   cuptiActivityRegisterCallbacks, cuptiActivityDisable, cuptiFinalize:
//       forwarded to CUPTI; a call from another CUPTI client (a profiler)
//       after tracing started would silently take the records away, so the
//       report then says CUPTI could not trace.
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "harness/env/virtual_runtime/tally.h"
#include "harness/recorder/cupti/activity_tracer.h"
#include "harness/recorder/cupti/cupti_library.h"
#include "harness/recorder/cupti/driver_tally.h"

namespace {

using harness::recorder::cupti::ActivityTracer;
using harness::recorder::cupti::DriverTally;
using harness::recorder::cupti::ProcessReport;

// Captured at load: the environment may change before the process ends.
char output_dir[PATH_MAX] = "";
// The current image: its pid and the name of its files.
std::atomic<pid_t> image_pid{0};
char image_id[64] = "";
// The process in which the driver called InitializeInjection.
std::atomic<pid_t> traced_pid{0};
// The image that has reported; a pid, not a flag: a vfork child shares this
// memory with its parent.
std::atomic<pid_t> reported{0};
std::mutex state_mu;
// Whether this thread holds (or waits for) state_mu: an _exit from a signal
// handler on it must not take it again.
thread_local int state_users = 0;
struct StateLock {
  StateLock() {
    ++state_users;
    state_mu.lock();
  }
  ~StateLock() {
    state_mu.unlock();
    --state_users;
  }
};
std::string cupti_status = "not started";  // guarded by state_mu
std::string foreign_cupti;                 // guarded by state_mu
bool marked_loaded = false;                // guarded by state_mu
DriverTally loaded_tally;                  // guarded by state_mu

std::string Program() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  close(fd);
  rename(tmp.c_str(), path.c_str());
}

bool Enabled() { return output_dir[0] != '\0'; }

std::string ImagePath(const char* suffix) { return std::string(output_dir) + "/" + image_id + suffix; }

// A new image of this process begins: names its files and says so.
void BeginImage() {
  if (!Enabled()) return;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::snprintf(image_id, sizeof(image_id), "%d-%lld%09ld", static_cast<int>(getpid()),
                static_cast<long long>(now.tv_sec), now.tv_nsec);
  image_pid = getpid();
  WriteFile(ImagePath(".started"), Program() + "\n");
}

// The virtual CUDA runtime (harness/env/virtual_runtime), when it is preloaded
// beside this library: it plays the driver, and its own counts stand in for
// CUPTI's. Looked up at load, when every preloaded library is mapped.
harness::env::VirtualCudaTallyFn virtual_tally = nullptr;

// What the virtual runtime counted in this image, or false when there is no
// virtual runtime or this image never called it.
bool VirtualTally(DriverTally* out) {
  harness::env::VirtualCudaTally counted;
  if (virtual_tally == nullptr || !virtual_tally(&counted)) return false;
  DriverTally tally;
  for (const auto& c : counted.copies) tally.copies[{c.src, c.dst}] = {c.bytes, c.count};
  for (const auto& m : counted.memory) {
    tally.device_memory[m.device] = {m.allocated_bytes, m.current_bytes, m.peak_bytes};
  }
  *out = std::move(tally);
  return true;
}

// What cuDeviceGetCount returns from the libcuda.so.1 already loaded (never
// loading one), or -1 when none is loaded.
int CudaCheck() {
  void* libcuda = dlopen("libcuda.so.1", RTLD_NOLOAD | RTLD_LAZY);
  if (libcuda == nullptr) return -1;
  using DeviceGetCount = int (*)(int*);
  auto get_count = reinterpret_cast<DeviceGetCount>(dlsym(libcuda, "cuDeviceGetCount"));
  int count = 0;
  int result = get_count != nullptr ? get_count(&count) : -2;
  dlclose(libcuda);
  return result == 0 && count == 0 ? -3 : result;  // -3: initialised, no device
}

// Whether a process whose driver answered `check` may have used a GPU. Only
// answers that mean "no GPU could be used" say no; anything else, including
// codes of a driver already shut down, says maybe.
bool MayHaveUsedGpu(int check) {
  switch (check) {
    case -1:   // no libcuda.so.1 loaded
    case -3:   // initialised with no device
    case 3:    // CUDA_ERROR_NOT_INITIALIZED: cuInit never succeeded
    case 34:   // CUDA_ERROR_STUB_LIBRARY
    case 35:   // the driver stand-in's old-driver / no-driver
    case 100:  // CUDA_ERROR_NO_DEVICE
    case 803:  // CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
    case 804:  // CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE
      return false;
    default:
      return true;
  }
}

// Writes this image's report. `last` is false at an exec that may yet fail:
// CUPTI keeps tracing, and a later report replaces this one.
void Report(bool last) {
  if (!Enabled() || image_pid.load() != getpid()) return;  // e.g. a vfork child
  if (reported.exchange(getpid()) == getpid()) return;
  ProcessReport r;
  r.pid = getpid();
  r.program = Program();
  DriverTally virtual_counts;
  if (VirtualTally(&virtual_counts)) {
    r.injected = true;  // the runtime this image used is the counting one
    StateLock lock;
    r.tally = marked_loaded ? loaded_tally : virtual_counts;
    r.cuda_check = CudaCheck();
    r.cuda_usable = MayHaveUsedGpu(r.cuda_check);
    WriteFile(ImagePath(".json"), r.ToJson() + "\n");
    if (!last) reported = 0;
    return;
  }
  const bool traced_here = traced_pid.load() == getpid();
  const bool forked_from_traced = traced_pid.load() != 0 && !traced_here;
  r.injected = traced_here;
  if (traced_here && (ActivityTracer::BusyOnThisThread() || state_users > 0)) {
    r.cupti = "the process ended inside the CUPTI tracer (an _exit from a signal handler?): not flushed";
  } else if (traced_here) {
    StateLock lock;
    r.cupti = !foreign_cupti.empty() ? foreign_cupti : cupti_status;
    if (cupti_status == "ok" && ActivityTracer::Get().started()) {
      harness::Result<DriverTally> tally = last ? ActivityTracer::Get().Stop() : ActivityTracer::Get().Snapshot();
      if (!tally.ok())
        r.cupti = tally.status().message();
      else
        r.tally = marked_loaded ? loaded_tally : *tally;
      r.tally.dropped_records = tally.ok() ? tally->dropped_records : 0;
    }
  } else if (forked_from_traced) {
    r.cupti = "forked from a traced process: CUPTI does not follow fork";
  } else {
    r.cupti = "not started";
  }
  // A child forked from a process that initialised CUDA cannot use CUDA (the
  // driver does not survive fork), and asking the driver there may hang.
  r.cuda_check = forked_from_traced ? -1 : CudaCheck();
  r.cuda_usable = forked_from_traced ? false : MayHaveUsedGpu(r.cuda_check);
  WriteFile(ImagePath(".json"), r.ToJson() + "\n");
  if (!last) reported = 0;  // the exec may fail; then this image goes on
}

void ReportAtExit() { Report(/*last=*/true); }

// The next definition of `name` after this library (libc's, CUPTI's).
template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// libc's exec functions, looked up at load: a vfork child (posix_spawn's,
// Python's subprocess) calls them while its parent's other threads run, and
// must not take the dynamic loader's lock.
using ExecveFn = int (*)(const char*, char* const*, char* const*);
using ExecvFn = int (*)(const char*, char* const*);
using FexecveFn = int (*)(int, char* const*, char* const*);
ExecveFn libc_execve = nullptr;
ExecvFn libc_execv = nullptr;
ExecvFn libc_execvp = nullptr;
ExecveFn libc_execvpe = nullptr;
FexecveFn libc_fexecve = nullptr;

void AfterForkInChild() {
  reported = 0;
  BeginImage();
}

void ResolveLibcExec() {
  if (libc_execve != nullptr) return;
  libc_execv = Next<ExecvFn>("execv");
  libc_execvp = Next<ExecvFn>("execvp");
  libc_execvpe = Next<ExecveFn>("execvpe");
  libc_fexecve = Next<FexecveFn>("fexecve");
  libc_execve = Next<ExecveFn>("execve");  // last: it marks all resolved
}

// Starts reporting into `dir`: at load, or later for a process that learns
// its directory after it started (harness_cupti_begin_image).
void BeginReporting(const char* dir) {
  if (dir == nullptr || *dir == '\0' || std::strlen(dir) >= sizeof(output_dir)) return;
  const bool first = !Enabled();
  std::strcpy(output_dir, dir);
  reported = 0;
  BeginImage();
  if (!first) return;
  pthread_atfork(nullptr, nullptr, &AfterForkInChild);
  // Runs after the atexit handlers registered later (the driver's, CUPTI's
  // start-up in InitializeInjection registers its own, earlier one) and
  // before any library's destructor: the driver library is still mapped.
  std::atexit(&ReportAtExit);
}

__attribute__((constructor)) void OnLoad() {
  ResolveLibcExec();
  virtual_tally =
      reinterpret_cast<harness::env::VirtualCudaTallyFn>(dlsym(RTLD_DEFAULT, harness::env::kVirtualCudaTallySymbol));
  BeginReporting(std::getenv("HARNESS_CUPTI_OUTPUT_DIR"));
}

// Last resort for an exit that ran no atexit handlers.
__attribute__((destructor)) void OnUnload() { Report(/*last=*/true); }

// Records that another CUPTI client touched tracing after it started here.
void ForeignCupti(const char* what) {
  if (traced_pid.load() != getpid()) return;
  StateLock lock;
  if (cupti_status == "ok" && foreign_cupti.empty()) {
    foreign_cupti = std::string("another CUPTI client in this process called ") + what +
                    " after tracing started (a profiler?): records may be missing";
  }
}

std::vector<char*> VariadicArgs(const char* first, va_list ap, char*** envp) {
  std::vector<char*> argv{const_cast<char*>(first)};
  while (char* a = va_arg(ap, char*)) argv.push_back(a);
  argv.push_back(nullptr);
  if (envp != nullptr) *envp = va_arg(ap, char**);
  return argv;
}

}  // namespace

#define HARNESS_EXPORT extern "C" __attribute__((visibility("default")))

// Interposed on libc's: report, then leave as libc's _exit does. Calls from
// inside libc (exit(), posix_spawn's child) do not come through here.
HARNESS_EXPORT __attribute__((noreturn)) void _exit(int status) {
  Report(/*last=*/true);
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

HARNESS_EXPORT __attribute__((noreturn)) void _Exit(int status) { _exit(status); }

namespace {

// exec*: the image ends here if the exec succeeds. `libc_exec` is read after
// ResolveLibcExec has filled it, hence the reference.
template <typename Fn, typename... Args>
int ReportThenExec(const Fn& libc_exec, Args... args) {
  Report(/*last=*/false);
  ResolveLibcExec();  // an exec before this library's constructor ran
  return libc_exec(args...);
}

}  // namespace

HARNESS_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  return ReportThenExec(libc_execve, path, argv, envp);
}

HARNESS_EXPORT int execv(const char* path, char* const argv[]) noexcept {
  return ReportThenExec(libc_execv, path, argv);
}

HARNESS_EXPORT int execvp(const char* file, char* const argv[]) noexcept {
  return ReportThenExec(libc_execvp, file, argv);
}

HARNESS_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) noexcept {
  return ReportThenExec(libc_execvpe, file, argv, envp);
}

HARNESS_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) noexcept {
  return ReportThenExec(libc_fexecve, fd, argv, envp);
}

HARNESS_EXPORT int execl(const char* path, const char* arg, ...) noexcept {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = VariadicArgs(arg, ap, nullptr);
  va_end(ap);
  return execv(path, argv.data());
}

HARNESS_EXPORT int execlp(const char* file, const char* arg, ...) noexcept {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = VariadicArgs(arg, ap, nullptr);
  va_end(ap);
  return execvp(file, argv.data());
}

HARNESS_EXPORT int execle(const char* path, const char* arg, ...) noexcept {
  va_list ap;
  va_start(ap, arg);
  char** envp = nullptr;
  std::vector<char*> argv = VariadicArgs(arg, ap, &envp);
  va_end(ap);
  return execve(path, argv.data(), envp);
}

// A process forked for one cell by the Python fork server
// (tools/strategies/fork_server.py), which was started without a directory:
// from here on this image reports into `dir`, as if it had started there.
HARNESS_EXPORT void harness_cupti_begin_image(const char* dir) { BeginReporting(dir); }

// Callers synchronise first: a copy still in flight has no complete record
// yet, and an incomplete record makes the whole trace unmeasured.
HARNESS_EXPORT void harness_cupti_mark_loaded(void) {
  if (DriverTally virtual_counts; VirtualTally(&virtual_counts)) {
    StateLock lock;
    if (!marked_loaded) {
      loaded_tally = std::move(virtual_counts);
      marked_loaded = true;
    }
    return;
  }
  if (traced_pid.load() != getpid()) return;
  StateLock lock;
  if (marked_loaded || cupti_status != "ok") return;
  harness::Result<DriverTally> tally = ActivityTracer::Get().Snapshot();
  if (tally.ok()) {
    loaded_tally = *tally;
    marked_loaded = true;
  }
}

#if HARNESS_CUDA_HAS_CUPTI
namespace {

// CUPTI's own `name`: the next definition after this library, or, where the
// process's CUPTI is not in the global scope (dlopened with RTLD_LOCAL, as
// the tracer does), the one in the CUPTI the tracer loaded.
template <typename Fn>
Fn Cupti(const char* name) {
  if (Fn next = Next<Fn>(name)) return next;
  harness::Result<const harness::recorder::cupti::CuptiLibrary*> lib = harness::recorder::cupti::LoadCupti();
  return lib.ok() ? reinterpret_cast<Fn>(dlsym((*lib)->handle, name)) : nullptr;
}

}  // namespace

HARNESS_EXPORT CUptiResult cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc requested,
                                                          CUpti_BuffersCallbackCompleteFunc completed) {
  ForeignCupti("cuptiActivityRegisterCallbacks");
  auto real = Cupti<decltype(&cuptiActivityRegisterCallbacks)>("cuptiActivityRegisterCallbacks");
  return real != nullptr ? real(requested, completed) : CUPTI_ERROR_NOT_INITIALIZED;
}

HARNESS_EXPORT CUptiResult cuptiActivityDisable(CUpti_ActivityKind kind) {
  if (kind == CUPTI_ACTIVITY_KIND_MEMCPY || kind == CUPTI_ACTIVITY_KIND_MEMCPY2 ||
      kind == CUPTI_ACTIVITY_KIND_MEMORY2) {
    ForeignCupti("cuptiActivityDisable");
  }
  auto real = Cupti<decltype(&cuptiActivityDisable)>("cuptiActivityDisable");
  return real != nullptr ? real(kind) : CUPTI_ERROR_NOT_INITIALIZED;
}

HARNESS_EXPORT CUptiResult cuptiFinalize(void) {
  ForeignCupti("cuptiFinalize");
  auto real = Cupti<decltype(&cuptiFinalize)>("cuptiFinalize");
  return real != nullptr ? real() : CUPTI_ERROR_NOT_INITIALIZED;
}
#endif  // HARNESS_CUDA_HAS_CUPTI

// Called by the CUDA driver inside cuInit when CUDA_INJECTION64_PATH names
// this library. Returns 1: the process goes on even where CUPTI cannot trace
// (its report then says why).
HARNESS_EXPORT int InitializeInjection(void) {
  if (traced_pid.load() == getpid()) return 1;
  harness::Status s = ActivityTracer::Get().Start({.copies = true, .device_memory = true});
  {
    StateLock lock;
    cupti_status = s.ok() ? "ok" : s.message();
  }
  traced_pid = getpid();
  // Registered inside cuInit, after the driver's own start-up, so it runs
  // before the driver's atexit teardown: CUPTI can still flush then.
  std::atexit(&ReportAtExit);
  return 1;
}
