#include "harness/env/environment_spec.h"

#include "harness/env/virtual_runtime/virtual_runtime.h"

namespace harness::env {

std::optional<EnvironmentSpec> EnvironmentPreset(std::string_view name) {
  for (const EnvironmentPresetInfo& p : kEnvironmentPresets) {
    if (p.name == name) {
      EnvironmentSpec env;
      env.name = std::string(name);
      env.gpus = p.gpus;
      env.cuda = p.cuda;
      return env;
    }
  }
  return std::nullopt;
}

std::string EnvironmentPresetList() {
  std::string list;
  for (const EnvironmentPresetInfo& p : kEnvironmentPresets) list += (list.empty() ? "" : ", ") + std::string(p.name);
  return list;
}

std::string_view BackendName(Backend b) { return b == Backend::kVirtual ? "virtual" : "real"; }

std::string VisibleDevices(const EnvironmentSpec& env) {
  if (!env.visible_devices.empty()) return env.visible_devices;
  if (InfoOf(env.cuda).real == RealMechanism::kHideDevices) return "";
  std::string list;
  for (int i = 0; i < env.gpus; ++i) list += (i ? "," : "") + std::to_string(i);
  return list;
}

bool NeedsDriverStandIn(const EnvironmentSpec& env, const HostFacts& host) {
  const CudaStateInfo& info = InfoOf(env.cuda);
  if (info.real != RealMechanism::kDriverStandIn) return false;
  return !(info.true_on_driverless_host && !host.driver_present);
}

namespace {

bool EnoughGpus(const EnvironmentSpec& env, const HostFacts& host, const char* note, std::string* why_not) {
  if (env.cuda != CudaState::kOk || env.gpus <= host.physical_gpus) return true;
  *why_not = "needs " + std::to_string(env.gpus) + " GPU(s), host has " + std::to_string(host.physical_gpus) + note;
  return false;
}

bool StandInFound(const EnvironmentSpec& env, const HostFacts& host, std::string* why_not) {
  if (!NeedsDriverStandIn(env, host) || !host.driver_stand_in.empty()) return true;
  *why_not = "driver stand-in (harness/env/driver_fault) not found";
  return false;
}

}  // namespace

bool CanRealize(const EnvironmentSpec& env, Backend backend, const HostFacts& host, std::string* why_not) {
  const CudaStateInfo& info = InfoOf(env.cuda);
  if (backend == Backend::kVirtual) {
    if (!host.virtual_cuda_linked && !host.virtual_cuda_runtime_loaded) {
      *why_not = "virtual backend needs the CPU-only LibTorch leg, or the virtual CUDA runtime loaded (replay does it)";
      return false;
    }
    if (!info.virtual_backend) {
      *why_not =
          "virtual devices do not simulate " + std::string(info.name) + "; the real backend (CUDA leg) injects it";
      return false;
    }
    return true;
  }
  if (host.virtual_cuda_linked) {
    *why_not = "real backend needs a CUDA build of LibTorch";
    return false;
  }
  if (!EnoughGpus(env, host, "", why_not)) return false;
  if (NeedsDriverStandIn(env, host) && host.driver_present) {
    // LibTorch's CUDA libraries load libcuda.so.1 while the process starts,
    // so a forked worker cannot swap the driver any more.
    *why_not = "host has an NVIDIA driver that LibTorch loads at start-up; " + std::string(info.name) +
               " is injected on driverless hosts";
    return false;
  }
  return StandInFound(env, host, why_not);
}

namespace {

bool WantsVirtualRuntime(const EnvironmentSpec& env, Backend backend, const HostFacts& host) {
  return backend == Backend::kVirtual && env.cuda == CudaState::kOk && env.gpus > 0 &&
         !host.virtual_cuda_runtime.empty();
}

}  // namespace

bool UsesVirtualRuntime(const EnvironmentSpec& env, Backend backend, const HostFacts& host) {
  return WantsVirtualRuntime(env, backend, host) && env.gpus <= kMaxVirtualRuntimeDevices;
}

bool CanRealizeForProcess(const EnvironmentSpec& env, Backend backend, const HostFacts& host, std::string* why_not) {
  if (WantsVirtualRuntime(env, backend, host)) {
    if (UsesVirtualRuntime(env, backend, host)) return true;
    *why_not = "needs " + std::to_string(env.gpus) + " GPU(s); the virtual CUDA runtime plays at most " +
               std::to_string(kMaxVirtualRuntimeDevices);
    return false;
  }
  if (env.memory_per_gpu > 0) {
    *why_not = "memory_per_gpu cannot be imposed on another process's real GPUs";
    return false;
  }
  const char* note = backend == Backend::kVirtual
                         ? " (the virtual CUDA runtime, harness/env/virtual_runtime, was not found)"
                         : "";
  return EnoughGpus(env, host, note, why_not) && StandInFound(env, host, why_not);
}

std::vector<std::pair<std::string, std::string>> ProcessEnvironment(const EnvironmentSpec& env, Backend backend,
                                                                    const HostFacts& host,
                                                                    std::string_view inherited_ld_library_path) {
  std::vector<std::pair<std::string, std::string>> vars = {{"CUDA_VISIBLE_DEVICES", VisibleDevices(env)}};
  if (UsesVirtualRuntime(env, backend, host)) {
    VirtualRuntimeSpec spec{env.gpus, {}};
    if (env.memory_per_gpu > 0) spec.capacity_bytes.assign(static_cast<size_t>(env.gpus), env.memory_per_gpu);
    vars.emplace_back(kVirtualCudaEnvVar, FormatVirtualRuntimeSpec(spec));
    return vars;
  }
  if (NeedsDriverStandIn(env, host) && !host.driver_stand_in.empty()) {
    for (auto& v : DriverFaultEnvironment(host.driver_stand_in, env.cuda, inherited_ld_library_path)) {
      vars.push_back(std::move(v));
    }
  }
  return vars;
}

std::string EnvironmentTablesMarkdown() {
  std::string md =
      "| `cuda:` state | meaning | virtual backend (both legs) | real backend (CUDA leg) |\n|---|---|---|---|\n";
  for (const CudaStateInfo& info : kCudaStates) {
    const char* real = info.real == RealMechanism::kNone          ? "as is"
                       : info.real == RealMechanism::kHideDevices ? "`CUDA_VISIBLE_DEVICES=\"\"`"
                       : info.true_on_driverless_host             ? "driver stand-in (none needed on a driverless host)"
                                                                  : "driver stand-in";
    md += "| `" + std::string(info.name) + "` | " + std::string(info.meaning) + " | " +
          (info.virtual_backend ? "yes" : "no (skipped)") + " | " + real + " |\n";
  }
  md += "\n| preset | `gpus` | `cuda` |\n|---|---|---|\n";
  for (const EnvironmentPresetInfo& p : kEnvironmentPresets) {
    md += "| `" + std::string(p.name) + "` | " + std::to_string(p.gpus) + " | `" + std::string(CudaStateName(p.cuda)) +
          "` |\n";
  }
  return md;
}

}  // namespace harness::env
