// Finds a file the harness builds and ships beside its binaries (the driver
// stand-in, the CUPTI injection library), wherever the binary runs: under
// Bazel (runfiles), from the GPU bundle (next to the binary), or wherever an
// environment variable says.
//
//   Result<std::string> lib = FindDataFile({
//       .what = "CUPTI injection library",
//       .env_var = "HARNESS_CUPTI_INJECTION",
//       .runfiles_path = "ckpt_harness/harness/recorder/cupti/libharness_cupti_injection.so",
//       .beside_binary = "libharness_cupti_injection.so"});
#ifndef HARNESS_BASE_DATA_FILE_H_
#define HARNESS_BASE_DATA_FILE_H_

#include <string>

#include "harness/base/status.h"

namespace harness {

struct DataFile {
  const char* what;                     // for messages: "driver stand-in"
  const char* env_var;                  // names the file; when set, the only place
  const char* runfiles_path;            // "ckpt_harness/harness/..."
  const char* beside_binary = nullptr;  // a file name next to the binary, if any
};

// The file's absolute path. Looks at $env_var (when set, nowhere else), then
// the runfiles of `argv0` (this binary's when empty), then beside the
// binary. A runfiles path that is absolute is kept as it is: the symlink's
// name, not its target's. kEnvNotRealized says where it looked and names
// $env_var.
Result<std::string> FindDataFile(const DataFile& file, const std::string& argv0 = "");

// /proc/self/exe, resolved; "" if unreadable.
std::string SelfExe();

}  // namespace harness

#endif  // HARNESS_BASE_DATA_FILE_H_
