// Child processes: the one fork + pipe of the harness. Workers, external
// commands and the tests' probes all start their children here.
//
//   ChildOptions options;
//   options.timeout_seconds = 30;
//   Child c = RunChild([](int result_fd) {
//     WriteAll(result_fd, "{\"ok\": true}");
//     return 0;                          // the child's exit code
//   }, options);
//   c.result     // what the child wrote to result_fd
//   c.output     // the end of what it printed (stdout and stderr)
//   c.exited, c.exit_code, c.signal, c.timed_out
//
// The child leaves through _exit right after `body`, running no destructors
// or atexit handlers of the parent's state.
#ifndef HARNESS_BASE_SUBPROCESS_H_
#define HARNESS_BASE_SUBPROCESS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness {

struct ChildOptions {
  // Where the child's standard output and error go.
  enum class Capture {
    kNone,             // inherited from the parent
    kStdout,           // stdout into Child::output; stderr inherited
    kStdoutAndStderr,  // both, interleaved, into Child::output
  };
  Capture capture = Capture::kStdoutAndStderr;
  // Killed with SIGKILL after this many seconds; 0 waits for ever.
  double timeout_seconds = 0;
  // The child leads a process group of its own, and the whole group is
  // killed when the child ends (whatever it started does not outlive it)
  // or times out. Leave it off for a child that must die with its parent's
  // group (a command run by a worker).
  bool own_process_group = false;
  // Child::output keeps the last this many bytes; 0 keeps everything.
  size_t output_limit = 0;
};

struct Child {
  bool started = false;  // false: pipe or fork failed, or cancelled (see start_error)
  std::string start_error;
  bool timed_out = false;
  bool cancelled = false;  // stopped by CancelChildren(): killed, or never started
  bool exited = false;  // exited normally, with exit_code
  int exit_code = -1;
  int signal = 0;      // the signal that killed it, if one did
  std::string result;  // bytes written to the result pipe
  std::string output;  // captured output (see ChildOptions::capture)
  double wall_seconds = 0;
};

// Forks; the child runs `body` with the write end of the result pipe and
// exits with its return value. Output is read until the pipes close, or
// until a second after the child exits when something it started keeps
// them open. An exception escaping `body` is printed to
// stderr and exits with 3. The child holds no other child's pipes: a
// sibling started by another thread still sees its end of file.
Child RunChild(const std::function<int(int result_fd)>& body, const ChildOptions& options);

// Runs `argv` (argv[0] a path) with this process's environment plus `env`
// (replacing variables of the same name); 127 when it cannot be executed.
Child RunProgram(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                 const ChildOptions& options);

// Stops every child of this process, for a replay that was told to stop
// (SIGINT, SIGTERM): each RunChild waiting kills its child (and the child's
// group, if it leads one) at once and returns with `cancelled`; later calls
// start nothing. Async-signal-safe: a signal handler may call it. There is
// no undoing it.
void CancelChildren();
bool ChildrenCancelled();

// write() until everything is written; false on an error.
bool WriteAll(int fd, std::string_view data);

// "SEGV" for SIGSEGV, or the number.
std::string SignalName(int signal);

// How a process that died of `signal` is described in outcomes: "SIGSEGV",
// and for the signal a loader meets when a file it mapped shrinks under it,
// "SIGBUS: a memory-mapped file was truncated, or its storage failed, while
// in use".
std::string DescribeSignalDeath(int signal);

// The signal a shell's exit status stands for: `sh -c` reports a command
// killed by signal N as exit 128 + N. 0 when the status is no such report.
int SignalFromShellExit(int exit_code);

}  // namespace harness

#endif  // HARNESS_BASE_SUBPROCESS_H_
