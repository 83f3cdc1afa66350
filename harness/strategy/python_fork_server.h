// Python cells without a fresh interpreter each: the Python fork server
// (tools/strategies/fork_server.py) imports torch once and forks one child
// per cell, which is the cell's process from then on (its environment, its
// directory, its data limit, its own reports to the CUPTI injection library
// and its own virtual devices).
//
//   auto server = PythonForkServer::Start(python, *FindForkServerScript(), {{"LD_PRELOAD", lib}});
//   UsePythonForkServers({(*server)->socket_path()});
//   ... RunExternalCommand("'/venv/bin/python3' 'loader.py' --target 'cpu'", env) now forks there
//
// RunExternalCommand sends a command to a server only when it is plain
// (PlainWords: an interpreter, a script, arguments; nothing a shell would
// interpret) and a server takes it: one started with the same variables a
// process reads while it loads (LD_PRELOAD, LD_LIBRARY_PATH, PYTHON*) and
// the same interpreter. Anything else runs through /bin/sh as before, so
// the contract of external.h holds for every command either way: the same
// output, exit status, signal, timeout and memory limit.
#ifndef HARNESS_STRATEGY_PYTHON_FORK_SERVER_H_
#define HARNESS_STRATEGY_PYTHON_FORK_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/status.h"

namespace harness::strategy {

// A running fork server, stopped (SIGTERM, then SIGKILL) when destroyed; it
// also ends when the process that started it does.
class PythonForkServer {
 public:
  // Starts `python script <socket>` with this process's environment plus
  // `env` (minus HARNESS_CUPTI_OUTPUT_DIR: each cell names its own), and
  // waits up to `ready_seconds` for it to import torch and say "ready".
  // kEnvNotRealized with the server's last output when it does not.
  static Result<std::unique_ptr<PythonForkServer>> Start(const std::string& python, const std::string& script,
                                                         const std::vector<std::pair<std::string, std::string>>& env,
                                                         double ready_seconds = 120);
  ~PythonForkServer();
  PythonForkServer(const PythonForkServer&) = delete;
  PythonForkServer& operator=(const PythonForkServer&) = delete;

  const std::string& socket_path() const { return socket_path_; }

 private:
  PythonForkServer(pid_t pid, std::string dir) : pid_(pid), dir_(std::move(dir)), socket_path_(dir_ + "/socket") {}
  pid_t pid_;
  std::string dir_;
  std::string socket_path_;
};

// tools/strategies/fork_server.py: $HARNESS_FORK_SERVER_SCRIPT, the
// runfiles, or fork_server.py beside the binary (the GPU bundle).
Result<std::string> FindForkServerScript();

// The servers RunExternalCommand offers plain commands to, in order (none:
// every command runs through /bin/sh). Process-wide; set it before workers
// fork.
void UsePythonForkServers(std::vector<std::string> socket_paths);
const std::vector<std::string>& PythonForkServers();

// `command` split into words when it is plain: words of ordinary characters
// (letters, digits, _ . / : = , @ % + -) and single-quoted parts (what
// ShellQuote writes, '\'' included), separated by spaces; nullopt for
// anything a shell would interpret (variables, globs, pipes, redirections,
// double quotes, ...).
std::optional<std::vector<std::string>> PlainWords(const std::string& command);

// The request for one cell: `argv` with the complete environment `env`
// ("NAME=value"), this process's directory and data limit. Build it before
// forking the child that sends it.
std::string ForkServerRequest(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// In a child whose stdout and stderr are the cell's output: hands `request`
// to the first server that takes it, waits for the cell's end and ends the
// same way (returns its exit code; raises the signal that killed it).
// Returns false, having started nothing, when no server takes it. Only
// system calls: safe in a child forked from a threaded process.
bool RunInForkServer(const std::vector<std::string>& socket_paths, const std::string& request, int* exit_code);

}  // namespace harness::strategy

#endif  // HARNESS_STRATEGY_PYTHON_FORK_SERVER_H_
