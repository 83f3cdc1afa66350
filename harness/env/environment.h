// Makes an environment description (environment_spec.h) true inside a
// worker, and probes what the host offers.
//
//   HostFacts host = ProbeHost(argv[0]);
//   ...in the forked worker, before anything touches CUDA:
//   Status s = Realize(env, Backend::kVirtual, host);   // kEnvNotRealized if not
#ifndef HARNESS_ENV_ENVIRONMENT_H_
#define HARNESS_ENV_ENVIRONMENT_H_

#include <string>

#include "harness/base/status.h"
#include "harness/env/environment_spec.h"

namespace harness::env {

// What the host and this binary offer, probed without initialising CUDA.
// `argv0` helps find the driver stand-in in the binary's runfiles.
HostFacts ProbeHost(const std::string& argv0 = "");

// Virtual when the virtual CUDA backend is linked (CPU-only leg), else real.
Backend DefaultBackend();

// Makes `env` true in this process. Call in a fresh worker before CUDA is
// touched: CUDA_VISIBLE_DEVICES, the driver stand-in (see cuda_state.h) and
// the device memory limit (memory_per_gpu) are applied here. Then checks
// what LibTorch reports; kEnvNotRealized otherwise.
Status Realize(const EnvironmentSpec& env, Backend backend, const HostFacts& host);

}  // namespace harness::env

#endif  // HARNESS_ENV_ENVIRONMENT_H_
