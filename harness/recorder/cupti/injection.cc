// libharness_cupti_injection.so: records the memory copies and device
// allocations of a process the harness did not write (a Python torch.load, a
// user's own loader), through CUPTI, and leaves one JSON report per process.
//
// The harness starts such a loader with (see injected.h):
//   LD_PRELOAD=<this library>            every process of the command loads it
//   CUDA_INJECTION64_PATH=<this library> the driver calls InitializeInjection
//                                        in cuInit, before any CUDA work
//   HARNESS_CUPTI_OUTPUT_DIR=<dir>       where the reports go
// Each process writes <dir>/<pid>.started when it starts and <dir>/<pid>.json
// (a ProcessReport) when it exits: through exit() (atexit, destructors) or
// through _exit(), which this library interposes because shells (dash) and
// Python's os._exit leave that way. A .started without a .json is a process
// that was killed or crashed: nothing it did is known.
//
// The preload is what lets a process that never initialised CUDA say so: the
// driver calls InitializeInjection only in cuInit, so without it such a
// process would leave no trace and "no transfers" would be a guess.
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness/recorder/cupti/activity_tracer.h"
#include "harness/recorder/cupti/driver_tally.h"

namespace {

using harness::recorder::cupti::ActivityTracer;
using harness::recorder::cupti::ProcessReport;

std::string OutputDir() {
  const char* dir = std::getenv("HARNESS_CUPTI_OUTPUT_DIR");
  return dir != nullptr ? dir : "";
}

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

// The process this library's state belongs to; a forked child has another.
std::atomic<pid_t> owner{0};
std::atomic<bool> injected{false};
// The process that has reported; a pid, not a flag: a vfork child shares
// this memory with its parent.
std::atomic<pid_t> reported{0};
std::string cupti_status = "not started";

// Whether the driver was initialised and has a device: what decides if a
// process without a CUPTI trace may have moved bytes. Asks the libcuda.so.1
// already loaded, never loads one. CUDA_ERROR_DEINITIALIZED (the driver shut
// down before this ran) counts as usable: it was initialised.
bool CudaUsable() {
  void* libcuda = dlopen("libcuda.so.1", RTLD_NOLOAD | RTLD_LAZY);
  if (libcuda == nullptr) return false;
  using DeviceGetCount = int (*)(int*);
  auto get_count = reinterpret_cast<DeviceGetCount>(dlsym(libcuda, "cuDeviceGetCount"));
  int count = 0;
  int result = get_count != nullptr ? get_count(&count) : -1;
  dlclose(libcuda);
  constexpr int kSuccess = 0, kDeinitialized = 4;
  return (result == kSuccess && count > 0) || result == kDeinitialized;
}

void Report() {
  const std::string dir = OutputDir();
  if (dir.empty() || reported.exchange(getpid()) == getpid()) return;
  ProcessReport r;
  r.pid = getpid();
  r.program = Program();
  const bool forked = owner.load() != getpid();
  r.injected = injected.load() && !forked;
  r.cupti = forked && injected.load() ? "forked from a traced process: CUPTI does not follow fork" : cupti_status;
  if (r.injected && ActivityTracer::Get().started()) {
    harness::Result<harness::recorder::cupti::DriverTally> tally = ActivityTracer::Get().Stop();
    if (tally.ok()) r.tally = *tally;
    else r.cupti = tally.status().message();
  }
  // A child forked from a process that initialised CUDA cannot use CUDA
  // (the driver does not survive fork), and asking the driver there may hang.
  r.cuda_usable = forked && injected.load() ? false : CudaUsable();
  WriteFile(dir + "/" + std::to_string(r.pid) + ".json", r.ToJson() + "\n");
}

void ReportAtExit() { Report(); }

__attribute__((constructor)) void OnLoad() {
  owner = getpid();
  const std::string dir = OutputDir();
  if (dir.empty()) return;
  WriteFile(dir + "/" + std::to_string(getpid()) + ".started", Program() + "\n");
}

// Runs after every atexit handler: reports a process that never initialised
// CUDA (the atexit handler below exists only in those that did).
__attribute__((destructor)) void OnUnload() { Report(); }

}  // namespace

// Interposed on libc's: report, then leave as libc's _exit does. Calls from
// inside libc (posix_spawn's child) do not come through here.
extern "C" __attribute__((visibility("default"), noreturn)) void _exit(int status) {
  Report();
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

extern "C" __attribute__((visibility("default"), noreturn)) void _Exit(int status) { _exit(status); }

// Called by the CUDA driver inside cuInit when CUDA_INJECTION64_PATH names
// this library. Returns 1: the process goes on even where CUPTI cannot trace
// (its report then says why).
extern "C" __attribute__((visibility("default"))) int InitializeInjection(void) {
  if (injected.exchange(true)) return 1;
  owner = getpid();
  harness::Status s = ActivityTracer::Get().Start({.copies = true, .device_memory = true});
  cupti_status = s.ok() ? "ok" : s.message();
  // Registered after the driver's own start-up, so it runs before the
  // driver's teardown: CUPTI can still flush then.
  std::atexit(&ReportAtExit);
  return 1;
}
