#include "harness/recorder/cupti/injected.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/base/data_file.h"
#include "harness/base/files.h"

namespace harness::recorder::cupti {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<std::string> FindInjectionLibrary() {
  return FindDataFile({.what = "CUPTI injection library",
                       .env_var = "HARNESS_CUPTI_INJECTION",
                       .runfiles_path = "ckpt_harness/harness/recorder/cupti/libharness_cupti_injection.so",
                       .beside_binary = "libharness_cupti_injection.so"});
}

std::vector<std::pair<std::string, std::string>> InjectionEnvironment(const std::string& library,
                                                                      const std::string& output_dir,
                                                                      const std::string& also_preload) {
  const char* preload = std::getenv("LD_PRELOAD");
  std::string preloads = library + (also_preload.empty() ? "" : " " + also_preload) +
                         (preload != nullptr && *preload ? " " + std::string(preload) : "");
  return {{"LD_PRELOAD", preloads}, {"CUDA_INJECTION64_PATH", library}, {"HARNESS_CUPTI_OUTPUT_DIR", output_dir}};
}

InjectedTrace ReadInjectedTrace(const std::string& output_dir) {
  InjectedTrace trace;
  std::set<std::string> started, reported;
  Result<std::vector<std::string>> names = ListDirectory(output_dir);
  for (const std::string& name : names.ok() ? *names : std::vector<std::string>{}) {
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    if (name.compare(dot, std::string::npos, ".started") == 0) started.insert(name.substr(0, dot));
    if (name.compare(dot, std::string::npos, ".json") == 0) reported.insert(name.substr(0, dot));
  }
  if (started.empty() && reported.empty()) {
    trace.why =
        "no process of the command reported (the injection library was not loaded: "
        "LD_PRELOAD dropped, or a statically linked loader)";
    return trace;
  }
  std::vector<std::string> problems;
  // A file stem names one process image: "<pid>-<nonce>".
  auto pid_of = [](const std::string& stem) { return stem.substr(0, stem.find('-')); };
  for (const std::string& image : started) {
    if (reported.count(image) == 0) {
      std::string program = ReadFile(output_dir + "/" + image + ".started");
      while (!program.empty() && program.back() == '\n') program.pop_back();
      problems.push_back("process " + pid_of(image) + " (" + program +
                         ") ended without reporting (killed or crashed, or still running)");
    }
  }
  bool any_gpu = false;
  for (const std::string& image : reported) {
    const std::string pid = pid_of(image);
    Result<ProcessReport> r = ProcessReport::FromJson(ReadFile(output_dir + "/" + image + ".json"));
    if (!r.ok()) {
      problems.push_back("process " + pid + ": " + r.status().message());
      continue;
    }
    const ProcessReport& p = *r;
    if (p.cuda_usable) {
      any_gpu = true;
      if (!p.injected) {
        problems.push_back("process " + pid + " (" + p.program +
                           ") may have used CUDA (cuDeviceGetCount: " + std::to_string(p.cuda_check) +
                           ") but the driver never called the injection library "
                           "(CUDA_INJECTION64_PATH ignored or removed)");
      } else if (p.cupti != "ok") {
        problems.push_back("process " + pid + " (" + p.program + "): CUPTI could not trace: " + p.cupti);
      }
    }
    if (p.tally.dropped_records > 0) {
      problems.push_back("process " + pid + ": CUPTI dropped " + std::to_string(p.tally.dropped_records) +
                         " records (buffers full): its counts are low");
    }
    if (p.injected && p.cupti == "ok") trace.tally.Merge(p.tally);
    trace.processes.push_back(p);
  }
  if (!problems.empty()) {
    trace.why = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) trace.why += "; " + problems[i];
    return trace;
  }
  trace.measured = true;
  if (!any_gpu && trace.tally.Empty()) {
    trace.note = "no process of the command had a usable GPU: no device transfers";
  }
  return trace;
}

std::string UntracedPlacement(const std::map<std::string, std::string>& placement, const DriverTally& tally) {
  for (const auto& [pair, count] : tally.copies) {
    if (pair.second != kHost && count.bytes > 0) return "";
  }
  for (const auto& [name, device] : placement) {
    if (device.rfind("cuda", 0) == 0) {
      return "tensor " + name + " is on " + device +
             " but no copy onto a device was traced (a process outside the trace, or a path without memcpy)";
    }
  }
  return "";
}

}  // namespace harness::recorder::cupti
