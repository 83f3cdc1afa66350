// Makes the CUDA runtime, and so LibTorch's CUDA build, see a chosen driver
// fault by putting a stand-in for the NVIDIA driver library (libcuda.so.1,
// built here from libcuda_stand_in.cc) where the runtime looks for the real
// one.
//
//   Result<std::string> lib = FindDriverFaultStandIn(argv[0]);
//   if (!lib.ok()) return lib.status();
//   // In a process that has not touched CUDA yet (e.g. a freshly forked
//   // worker):
//   Status s = InstallDriverFault(*lib, CudaState::kOldDriver);
//   // torch::cuda::is_available() is now false, and the first CUDA tensor
//   // throws "The NVIDIA driver on your system is too old (found version
//   // 9000). ..."
//
// Two ways to put the stand-in in place:
//   - in a process about to exec: DriverFaultEnvironment() gives the
//     LD_LIBRARY_PATH and HARNESS_CUDA_FAULT values for the new process;
//   - in a running process: InstallDriverFault() dlopens the stand-in by
//     absolute path. The runtime later asks the loader for "libcuda.so.1" and
//     gets the already-loaded stand-in, matched by its soname.
// Either works only before anything has loaded the real driver and before the
// CUDA runtime has first looked for one (its first API call; it never looks
// again, so a stand-in loaded later goes unused). LibTorch's CUDA build (2.11)
// already dlopens libcuda.so.1 while loading, from static initialisers of
// libcublasLt and libcusparseLt: on a host without a driver that fails
// without a trace; on a host with one the real driver is then loaded before
// main, and InstallDriverFault returns kEnvNotRealized. There, use
// DriverFaultEnvironment for a fresh process, which hides even a real GPU
// (checked on an H100 host: all three faults as below).
//
// Beware: the wheel's libcusparseLt.so.0 has RUNPATH "$ORIGIN:", whose empty
// entry means the working directory, so a LibTorch CUDA process also loads a
// libcuda.so.1 that sits in its current directory.
//
// The faults are the rows of cuda_state.h whose mechanism is
// kDriverStandIn (names as in HARNESS_CUDA_FAULT and scenario files):
//   no-device   cudaErrorNoDevice; driver version = the toolkit's CUDA_VERSION.
//               LibTorch 2.11: "No CUDA GPUs are available".
//   old-driver  cudaErrorInsufficientDriver; driver version 9000.
//               LibTorch 2.11: "The NVIDIA driver on your system is too old
//               (found version 9000). ..."
//   no-driver   cudaErrorInsufficientDriver; driver version 0, exactly what
//               the runtime reports when no libcuda.so.1 exists at all.
//               LibTorch 2.11: "Found no NVIDIA driver on your system. ..."
//               On a host with no driver (this project's CI) the same fault
//               needs no stand-in; the mode exists to hide a real driver from
//               a fresh process.
// In every mode torch::cuda::is_available() is false and
// torch::cuda::device_count() is 0. A driver whose cuInit succeeds with zero
// devices is not offered: CUDA 13.0's runtime and LibTorch report it exactly
// as no-device.
#ifndef HARNESS_ENV_DRIVER_FAULT_DRIVER_FAULT_H_
#define HARNESS_ENV_DRIVER_FAULT_DRIVER_FAULT_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/base/status.h"
#include "harness/env/cuda_state.h"

namespace harness::env {

// Environment variable that, when set, names the stand-in for
// FindDriverFaultStandIn (for binaries run outside Bazel's runfiles).
inline constexpr char kDriverFaultLibEnvVar[] = "HARNESS_DRIVER_FAULT_LIB";
// Runfiles path of //harness/env/driver_fault:libcuda.so.1.
inline constexpr char kDriverFaultRunfilesPath[] = "ckpt_harness/harness/env/driver_fault/libcuda.so.1";

// Absolute path of the stand-in. The first that names an existing file wins:
// explicit_path, $HARNESS_DRIVER_FAULT_LIB, then the runfiles of the running
// binary (found from $RUNFILES_DIR/$RUNFILES_MANIFEST_FILE as `bazel test`
// and `bazel run` set them, else from argv0). A binary that calls this needs
// //harness/env/driver_fault (whose data is the stand-in) in its deps.
// kEnvNotRealized when no stand-in is found.
Result<std::string> FindDriverFaultStandIn(const std::string& argv0, const std::string& explicit_path = "");

// Sets HARNESS_CUDA_FAULT to `fault`'s name and loads the stand-in into this process by
// absolute path, so the CUDA runtime will use it. Call it before the first
// CUDA runtime call and while the process has a single thread (it calls
// setenv). Returns:
//   kInvalidArgument  `fault` is no state the stand-in plays (cuda_state.h:
//                     RealMechanism::kDriverStandIn), or the path is relative;
//   kEnvNotRealized   another libcuda.so.1 (the real driver) is already
//                     loaded, dlopen fails, the file's soname is not
//                     libcuda.so.1 or it is no stand-in, or the stand-in is
//                     already loaded and the runtime has already asked it
//                     for a different fault.
// Installing the same fault again is OK. For a process about to exec, use
// DriverFaultEnvironment (cuda_state.h) instead.
harness::Status InstallDriverFault(const std::string& stand_in_path, CudaState fault);

}  // namespace harness::env

#endif  // HARNESS_ENV_DRIVER_FAULT_DRIVER_FAULT_H_
