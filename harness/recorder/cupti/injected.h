// The harness side of libharness_cupti_injection.so (injection.cc): finds the
// library, gives the environment that makes a command's processes load it,
// and reads what they reported into one DriverTally.
//
//   Result<std::string> lib = FindInjectionLibrary();
//   std::string dir = ...a fresh directory...;
//   auto env = InjectionEnvironment(*lib, dir);       // add to the child's
//   ... run the command ...
//   InjectedTrace t = ReadInjectedTrace(dir);
//   if (t.measured) ... t.tally ...  else ... t.why ...
#ifndef HARNESS_RECORDER_CUPTI_INJECTED_H_
#define HARNESS_RECORDER_CUPTI_INJECTED_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/status.h"
#include "harness/recorder/cupti/driver_tally.h"

namespace harness::recorder::cupti {

// $HARNESS_CUPTI_INJECTION, else the library in this binary's Bazel
// runfiles, else libharness_cupti_injection.so next to the binary (the GPU
// bundle's layout). kEnvNotRealized with the places tried.
Result<std::string> FindInjectionLibrary();

// LD_PRELOAD (the library, then `also_preload` if any, e.g. the virtual
// CUDA runtime, then any existing preload), CUDA_INJECTION64_PATH and
// HARNESS_CUPTI_OUTPUT_DIR for a child process.
std::vector<std::pair<std::string, std::string>> InjectionEnvironment(const std::string& library,
                                                                      const std::string& output_dir,
                                                                      const std::string& also_preload = "");

// What the processes of one command reported.
struct InjectedTrace {
  // True when every process that could have used a GPU was traced: then
  // `tally` is every copy and device allocation the command made. A command
  // whose processes never had a usable GPU is measured, with an empty tally.
  bool measured = false;
  std::string why;   // when not measured
  std::string note;  // when measured: e.g. "no GPU used"
  std::vector<ProcessReport> processes;
  DriverTally tally;  // summed over traced processes
};

// Reads <dir>/*.started and <dir>/*.json (see injection.cc).
InjectedTrace ReadInjectedTrace(const std::string& output_dir);

// A safety net under a measured trace: a tensor the command says is on a
// device (`placement`: name -> "cuda:0"), with no copy onto any device in
// `tally`, came there by a way the trace cannot see (a process that dropped
// LD_PRELOAD, GPUDirect Storage). Returns why the trace cannot be trusted,
// or "".
std::string UntracedPlacement(const std::map<std::string, std::string>& placement, const DriverTally& tally);

}  // namespace harness::recorder::cupti

#endif  // HARNESS_RECORDER_CUPTI_INJECTED_H_
