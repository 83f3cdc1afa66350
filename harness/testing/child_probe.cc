#include "harness/testing/child_probe.h"

#include <dlfcn.h>
#include <unistd.h>

#include <exception>
#include <memory>

#include "harness/base/subprocess.h"
#include "tools/cpp/runfiles/runfiles.h"

namespace harness::testing {
namespace {

ChildResult FromChild(const Child& child, const std::string& raw) {
  ChildResult result;
  result.exited = child.exited;
  result.exit_code = child.exit_code;
  result.signal = child.signal;
  result.raw = raw;
  result.fields = ParseFields(raw);
  return result;
}

}  // namespace

Fields ParseFields(const std::string& text) {
  Fields fields;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      std::string value;
      for (size_t i = eq + 1; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == 'n') {
          value += '\n';
          ++i;
        } else {
          value += line[i];
        }
      }
      fields[line.substr(0, eq)] = value;
    }
    start = end + 1;
  }
  return fields;
}

std::string Field(const std::string& key, const std::string& value) {
  std::string line = key + "=";
  for (char c : value) {
    if (c == '\n') {
      line += "\\n";
    } else {
      line += c;
    }
  }
  return line + "\n";
}

ChildResult RunInFork(const std::function<std::string()>& body) {
  ChildOptions options;
  options.capture = ChildOptions::Capture::kNone;
  const Child child = RunChild(
      [&](int result_fd) {
        int code = 0;
        std::string out;
        try {
          out = body();
        } catch (const std::exception& e) {
          out = Field("child_exception", e.what());
          code = 3;
        }
        WriteAll(result_fd, out);
        return code;
      },
      options);
  return FromChild(child, child.result);
}

ChildResult RunSelf(const std::vector<std::string>& args,
                    const std::vector<std::pair<std::string, std::string>>& extra_env) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildOptions options;
  options.capture = ChildOptions::Capture::kStdout;
  const Child child = RunProgram(argv, extra_env, options);
  return FromChild(child, child.output);
}

std::string TestRunfile(const std::string& path) {
  std::string error;
  std::unique_ptr<bazel::tools::cpp::runfiles::Runfiles> runfiles(
      bazel::tools::cpp::runfiles::Runfiles::CreateForTest(&error));
  if (runfiles == nullptr) return "";
  std::string found = runfiles->Rlocation("ckpt_harness/" + path);
  return !found.empty() && access(found.c_str(), R_OK) == 0 ? found : "";
}

bool HostHasNvidiaDriver() { return access("/dev/nvidiactl", F_OK) == 0; }

bool RealDriverLoadable() {
  ChildResult r = RunInFork([] { return Field("loadable", dlopen("libcuda.so.1", RTLD_NOW) != nullptr ? "1" : "0"); });
  return r.fields["loadable"] == "1";
}

}  // namespace harness::testing
