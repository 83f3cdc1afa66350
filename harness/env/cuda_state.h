// The CUDA states an environment can put a loader in: one table from which
// the environment presets, the scenario parser's messages, realization on
// both backends, the driver stand-in's behaviour and the list in
// docs/scenarios.md are derived. Header-only and free of dependencies, so
// the stand-in (libcuda_stand_in.cc) compiles it too.
//
// Adding a state is one row here plus, for a new driver fault, the
// stand-in's answer in the row's driver fields; environment_spec_test checks
// that docs/scenarios.md lists every row.
#ifndef HARNESS_ENV_CUDA_STATE_H_
#define HARNESS_ENV_CUDA_STATE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness::env {

enum class CudaState { kOk, kHidden, kNoDriver, kNoDevice, kOldDriver };

// How the real backend (CUDA LibTorch, real devices) makes a state true.
enum class RealMechanism {
  kNone,           // nothing to do
  kHideDevices,    // CUDA_VISIBLE_DEVICES=""
  kDriverStandIn,  // harness/env/driver_fault's libcuda.so.1 plays the driver
};

struct CudaStateInfo {
  CudaState state;
  std::string_view name;     // in scenario files and $HARNESS_CUDA_FAULT
  std::string_view meaning;  // one line, for messages and docs
  RealMechanism real;
  // A host without any NVIDIA driver is in this state already: no stand-in.
  bool true_on_driverless_host;
  // Whether virtual devices (CPU-only leg) can simulate it.
  bool virtual_backend;
  // For kDriverStandIn: what the stand-in's cuDriverGetVersion reports
  // (kToolkitDriverVersion: the toolkit's own CUDA_VERSION), and whether
  // its calls fail with CUDA_ERROR_NO_DEVICE (else with 35, the runtime's
  // cudaErrorInsufficientDriver).
  int driver_version;
  bool fails_with_no_device;
};

inline constexpr int kToolkitDriverVersion = -1;

inline constexpr CudaStateInfo kCudaStates[] = {
    {CudaState::kOk, "ok", "CUDA works with the environment's GPUs", RealMechanism::kNone, false, true, 0, false},
    {CudaState::kHidden, "hidden", "CUDA_VISIBLE_DEVICES is empty: GPUs exist but are hidden",
     RealMechanism::kHideDevices, false, true, 0, false},
    {CudaState::kNoDriver, "no-driver", "no NVIDIA driver at all (no libcuda.so.1)", RealMechanism::kDriverStandIn,
     true, true, 0, false},
    {CudaState::kNoDevice, "no-device", "a driver but no device (cudaErrorNoDevice)", RealMechanism::kDriverStandIn,
     false, true, kToolkitDriverVersion, true},
    {CudaState::kOldDriver, "old-driver", "a driver older than the CUDA runtime (version 9000)",
     RealMechanism::kDriverStandIn, false, false, 9000, false},
};

inline constexpr const CudaStateInfo& InfoOf(CudaState state) {
  for (const CudaStateInfo& info : kCudaStates) {
    if (info.state == state) return info;
  }
  return kCudaStates[0];
}

inline std::string_view CudaStateName(CudaState state) { return InfoOf(state).name; }

inline std::optional<CudaState> CudaStateFromName(std::string_view name) {
  for (const CudaStateInfo& info : kCudaStates) {
    if (info.name == name) return info.state;
  }
  return std::nullopt;
}

// "ok, hidden, no-driver, no-device or old-driver", for messages; with
// `driver_faults_only`, the states the stand-in plays.
inline std::string CudaStateList(bool driver_faults_only = false) {
  std::string list;
  int remaining = 0;
  for (const CudaStateInfo& info : kCudaStates) {
    remaining += !driver_faults_only || info.real == RealMechanism::kDriverStandIn;
  }
  for (const CudaStateInfo& info : kCudaStates) {
    if (driver_faults_only && info.real != RealMechanism::kDriverStandIn) continue;
    --remaining;
    list += std::string(info.name) + (remaining > 1 ? ", " : remaining == 1 ? " or " : "");
  }
  return list;
}

// The variable the driver stand-in reads to choose its fault (a row name
// above); unset or empty means no-device.
inline constexpr char kDriverFaultEnvVar[] = "HARNESS_CUDA_FAULT";

// Environment variables (name, value) that make a process started with exec
// use the stand-in at `stand_in_path` with `fault`: LD_LIBRARY_PATH with the
// stand-in's directory in front of `inherited_ld_library_path`, and
// HARNESS_CUDA_FAULT. The caller adds them to the child's environment.
inline std::vector<std::pair<std::string, std::string>> DriverFaultEnvironment(
    const std::string& stand_in_path, CudaState fault, std::string_view inherited_ld_library_path) {
  const size_t slash = stand_in_path.rfind('/');
  std::string ld_library_path = slash == std::string::npos ? "." : slash == 0 ? "/" : stand_in_path.substr(0, slash);
  if (!inherited_ld_library_path.empty()) ld_library_path += ":" + std::string(inherited_ld_library_path);
  return {{"LD_LIBRARY_PATH", ld_library_path}, {kDriverFaultEnvVar, std::string(CudaStateName(fault))}};
}

}  // namespace harness::env

#endif  // HARNESS_ENV_CUDA_STATE_H_
