#include "harness/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>

extern char** environ;

namespace harness {
namespace {

void KeepTail(std::string* s, size_t limit) {
  if (limit > 0 && s->size() > 2 * limit) s->erase(0, s->size() - limit);
}

// Every pipe end this process holds for its children. A child forked by
// another thread (replay --jobs) would otherwise inherit a sibling's write
// end, and the sibling's parent would wait on it after the sibling exited.
// Forks happen under the same lock, so each child sees a consistent set and
// closes all but its own.
std::mutex open_pipes_mu;
std::set<int> open_pipes;

bool MakePipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  std::lock_guard<std::mutex> lock(open_pipes_mu);
  open_pipes.insert({fds[0], fds[1]});
  return true;
}

void ClosePipeEnd(int* fd) {
  if (*fd < 0) return;
  std::lock_guard<std::mutex> lock(open_pipes_mu);
  open_pipes.erase(*fd);
  close(*fd);
  *fd = -1;
}

// Cancellation: a pipe whose read end every waiting RunChild polls. It is
// written once and never read, so it stays readable for all of them.
std::atomic<bool> cancelled{false};
int cancel_pipe[2] = {-1, -1};
std::once_flag cancel_pipe_once;

int CancelReadEnd() {
  std::call_once(cancel_pipe_once, [] {
    if (pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0) cancel_pipe[0] = cancel_pipe[1] = -1;
  });
  return cancel_pipe[0];
}

}  // namespace

void CancelChildren() {
  cancelled.store(true);
  if (cancel_pipe[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = write(cancel_pipe[1], &byte, 1);
  }
}

bool ChildrenCancelled() { return cancelled.load(); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? abbrev : std::to_string(signal);
}

std::string DescribeSignalDeath(int signal) {
  std::string text = "SIG" + SignalName(signal);
  if (signal == SIGBUS) text += ": a memory-mapped file was truncated, or its storage failed, while in use";
  return text;
}

int SignalFromShellExit(int exit_code) { return exit_code > 128 && exit_code < 128 + NSIG ? exit_code - 128 : 0; }

Child RunChild(const std::function<int(int result_fd)>& body, const ChildOptions& options) {
  Child child;
  const int cancel_fd = CancelReadEnd();  // made before any signal handler may need it
  if (ChildrenCancelled()) {
    child.cancelled = true;
    child.start_error = "cancelled before it started";
    return child;
  }
  const auto start = std::chrono::steady_clock::now();
  const bool capture = options.capture != ChildOptions::Capture::kNone;
  int result_pipe[2] = {-1, -1};
  int output_pipe[2] = {-1, -1};
  if (!MakePipe(result_pipe) || (capture && !MakePipe(output_pipe))) {
    child.start_error = std::string("pipe: ") + strerror(errno);
    for (int* fd : {&result_pipe[0], &result_pipe[1], &output_pipe[0], &output_pipe[1]}) ClosePipeEnd(fd);
    return child;
  }
  // Unflushed output would otherwise be printed again by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(open_pipes_mu);
    pid = fork();
    if (pid == 0) {
      for (int fd : open_pipes) {
        if (fd != result_pipe[1] && fd != output_pipe[1]) close(fd);
      }
    }
  }
  if (pid < 0) {
    child.start_error = std::string("fork: ") + strerror(errno);
    for (int* fd : {&result_pipe[0], &result_pipe[1], &output_pipe[0], &output_pipe[1]}) ClosePipeEnd(fd);
    return child;
  }
  if (pid == 0) {
    if (options.own_process_group) setpgid(0, 0);
    // Not the parent's way of stopping: the default for SIGINT and SIGTERM,
    // and none of its cancel pipe (a child that cancelled would otherwise
    // wake every waiter of the parent for nothing).
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (int& fd : cancel_pipe) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    if (capture) {
      dup2(output_pipe[1], STDOUT_FILENO);
      if (options.capture == ChildOptions::Capture::kStdoutAndStderr) dup2(output_pipe[1], STDERR_FILENO);
      close(output_pipe[1]);
    }
    int code = 3;
    try {
      code = body(result_pipe[1]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: uncaught exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "child: uncaught non-standard exception\n");
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }
  child.started = true;
  // Also from this side: a cancel or timeout right after fork must reach
  // the group even before the child has made it.
  if (options.own_process_group) setpgid(pid, pid);
  ClosePipeEnd(&result_pipe[1]);
  ClosePipeEnd(&output_pipe[1]);
  pollfd fds[3] = {{result_pipe[0], POLLIN, 0}, {output_pipe[0], POLLIN, 0}, {cancel_fd, POLLIN, 0}};
  std::string* sinks[2] = {&child.result, &child.output};
  int open_fds = capture ? 2 : 1;
  char buf[65536];
  // Once the child has exited, what it started may still hold the pipes
  // (a loader's daemon, `cmd &`): read on for a short grace, then stop
  // rather than wait for a process that is not the child.
  constexpr double kGraceAfterExitSeconds = 1.0;
  std::optional<std::chrono::steady_clock::time_point> exited_at;
  // Reads what is ready on the pipes; false when nothing was.
  const auto read_ready = [&] {
    bool any = false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ClosePipeEnd(&fds[i].fd);
        --open_fds;
        continue;
      }
      any = true;
      sinks[i]->append(buf, size_t(n));
      if (i == 1) KeepTail(sinks[i], options.output_limit);
    }
    return any;
  };
  while (open_fds > 0) {
    const auto now = std::chrono::steady_clock::now();
    int wait_ms = -1;
    if (options.timeout_seconds > 0) {
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const double remaining_ms = (options.timeout_seconds - elapsed) * 1000;
      wait_ms = int(std::min(remaining_ms, 60'000.0));  // no int overflow for a long timeout
      if (wait_ms <= 0) {
        child.timed_out = true;
        break;
      }
    }
    if (exited_at && std::chrono::duration<double>(now - *exited_at).count() > kGraceAfterExitSeconds) {
      // What the child itself wrote is in the pipes by now: take all of it
      // (a slow reader must not lose a result), then stop.
      while (open_fds > 0 && poll(fds, 2, 0) > 0 && read_ready()) {
      }
      break;
    }
    // Wake now and then to notice the child's exit (the pipes may not close).
    wait_ms = wait_ms < 0 ? 200 : std::min(wait_ms, 200);
    const int ready = poll(fds, 3, wait_ms);
    if (ChildrenCancelled()) {
      child.cancelled = true;
      break;
    }
    if (fds[2].revents != 0) fds[2].fd = -1;  // readable, yet not cancelled: nothing to wait for there
    if (!exited_at) {
      // WNOWAIT: the child stays a zombie, so its pid (and group id) cannot
      // be reused before the group is killed below.
      siginfo_t info = {};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited_at = std::chrono::steady_clock::now();
      }
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline and the exit are checked above
    // Data coming in: the grace counts from the last of it.
    if (read_ready() && exited_at) exited_at = std::chrono::steady_clock::now();
  }
  for (int i = 0; i < 2; ++i) ClosePipeEnd(&fds[i].fd);
  if (options.output_limit > 0 && child.output.size() > options.output_limit) {
    child.output.erase(0, child.output.size() - options.output_limit);
  }
  // A child that leads a group takes what it started with it, whether it
  // exited, hung or was cancelled: nothing a loader forked outlives its case.
  if (options.own_process_group) kill(-pid, SIGKILL);
  if (child.timed_out || child.cancelled) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  child.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) {
    child.exited = true;
    child.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.signal = WTERMSIG(status);
  }
  return child;
}

Child RunProgram(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                 const ChildOptions& options) {
  // Built before fork: the child only execs.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : env) replaced |= entry.rfind(name + "=", 0) == 0;
    if (!replaced) env_storage.push_back(entry);
  }
  for (const auto& [name, value] : env) env_storage.push_back(name + "=" + value);
  std::vector<std::string> argv_storage = argv;
  std::vector<char*> argv_ptrs, env_ptrs;
  for (std::string& a : argv_storage) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  for (std::string& e : env_storage) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);
  return RunChild(
      [&](int) {
        if (!argv_ptrs.empty() && argv_ptrs[0] != nullptr) execve(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
        return 127;
      },
      options);
}

}  // namespace harness
