#include "harness/base/data_file.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>

#include "tools/cpp/runfiles/runfiles.h"

namespace harness {
namespace {

using bazel::tools::cpp::runfiles::Runfiles;

bool IsFile(const std::string& path) { return !path.empty() && access(path.c_str(), R_OK) == 0; }

std::string Absolute(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? resolved : path;
}

}  // namespace

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

Result<std::string> FindDataFile(const DataFile& file, const std::string& argv0) {
  const std::string what = file.what;
  const std::string env_var = file.env_var;
  if (const char* from_env = std::getenv(file.env_var); from_env != nullptr && *from_env != '\0') {
    if (IsFile(from_env)) return Absolute(from_env);
    return Status(ErrorClass::kEnvNotRealized, what + " not found at $" + env_var + "=" + from_env);
  }
  std::string tried;
  std::string error;
  std::unique_ptr<Runfiles> runfiles(Runfiles::Create(argv0.empty() ? SelfExe() : argv0, &error));
  if (runfiles != nullptr) {
    std::string path = runfiles->Rlocation(file.runfiles_path);
    if (IsFile(path)) return path[0] == '/' ? path : Absolute(path);
    tried += std::string(file.runfiles_path) + " is not in this binary's runfiles";
  } else {
    tried += "no runfiles (" + error + ")";
  }
  if (file.beside_binary != nullptr) {
    const std::string exe = SelfExe();
    const std::string beside = exe.substr(0, exe.rfind('/') + 1) + file.beside_binary;
    if (IsFile(beside)) return Absolute(beside);
    tried += ", nor is " + beside;
  }
  return Status(ErrorClass::kEnvNotRealized, what + " not found: " + tried + "; set $" + env_var);
}

}  // namespace harness
