// Test support: runs a probe in a child process (CUDA state is per process,
// and a fault must be in place before the runtime's first call) and brings
// back what it printed as key=value lines.
#ifndef HARNESS_TESTING_CHILD_PROBE_H_
#define HARNESS_TESTING_CHILD_PROBE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace harness::testing {

using Fields = std::map<std::string, std::string>;

struct ChildResult {
  bool exited = false;  // false: killed by a signal or never started
  int exit_code = -1;
  int signal = 0;
  Fields fields;    // parsed from the child's stdout
  std::string raw;  // the child's stdout as it came
};

// "key=value" lines; a value's newlines must be escaped (see Field).
Fields ParseFields(const std::string& text);
// One "key=value\n" line with '\n' in value written as "\\n".
std::string Field(const std::string& key, const std::string& value);

// Forks; the child runs `body` and writes what it returns to the parent. The
// child ends with _exit, so no destructors or atexit handlers run there.
ChildResult RunInFork(const std::function<std::string()>& body);

// Runs this same binary (/proc/self/exe) afresh with `args`, its environment
// plus `extra_env`, and returns its stdout.
ChildResult RunSelf(const std::vector<std::string>& args,
                    const std::vector<std::pair<std::string, std::string>>& extra_env);

// A file of this test's runfiles, by its path in the workspace
// ("harness/testing/libcuda.so.1"), or "" where it is not
// there (a test binary run outside Bazel, as in the GPU bundle).
std::string TestRunfile(const std::string& path);

// True where the host has an NVIDIA kernel driver (/dev/nvidiactl), so
// libcuda.so.1 would be real.
bool HostHasNvidiaDriver();

// True when a real libcuda.so.1 can be loaded; checked in a forked child so
// this process stays free of it.
bool RealDriverLoadable();

}  // namespace harness::testing

#endif  // HARNESS_TESTING_CHILD_PROBE_H_
