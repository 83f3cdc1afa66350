#include "harness/worker/worker.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdint>

namespace harness::worker {
namespace {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

}  // namespace

WorkerResult RunInWorker(const std::function<std::string()>& body, double timeout_seconds) {
  WorkerResult result;
  auto start = std::chrono::steady_clock::now();
  int fds[2];
  int err[2];
  if (pipe(fds) != 0 || pipe(err) != 0) {
    result.status = Status(ErrorClass::kInternal, std::string("pipe: ") + strerror(errno));
    return result;
  }
  // Unflushed output would otherwise be printed again by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    result.status = Status(ErrorClass::kInternal, std::string("fork: ") + strerror(errno));
    return result;
  }
  if (pid == 0) {
    // Its own process group, so a timeout also ends what it started.
    setpgid(0, 0);
    close(fds[0]);
    close(err[0]);
    // What the worker (and LibTorch in it) says goes to the result, not the
    // terminal.
    dup2(err[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(err[1]);
    std::string payload = body();
    uint64_t size = payload.size();
    bool ok = WriteAll(fds[1], reinterpret_cast<const char*>(&size), sizeof(size)) &&
              WriteAll(fds[1], payload.data(), payload.size());
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(ok ? 0 : 3);
  }
  close(fds[1]);
  close(err[1]);
  std::string received;
  std::string output;
  bool timed_out = false;
  char buf[65536];
  pollfd p[2] = {{fds[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int remaining_ms = int((timeout_seconds - elapsed) * 1000);
    if (remaining_ms <= 0) {
      timed_out = true;
      break;
    }
    int r = poll(p, 2, remaining_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? received : output).append(buf, size_t(n));
      if (output.size() > 16384) output.erase(0, output.size() - 8192);
    }
  }
  for (const pollfd& q : p) {
    if (q.fd >= 0) close(q.fd);
  }
  result.output = output.size() > 8192 ? output.substr(output.size() - 8192) : output;
  if (timed_out) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (timed_out) {
    result.status = Status(ErrorClass::kTimeout,
                           "worker exceeded " + std::to_string(timeout_seconds) + " s");
    return result;
  }
  if (WIFSIGNALED(wstatus)) {
    int sig = WTERMSIG(wstatus);
    const char* abbrev = sigabbrev_np(sig);
    result.status = Status(ErrorClass::kCrashed,
                           std::string("crashed(SIG") + (abbrev ? abbrev : std::to_string(sig).c_str()) + ")");
    return result;
  }
  uint64_t size = 0;
  if (received.size() < sizeof(size)) {
    result.status = Status(ErrorClass::kLost, "worker exited with status " +
                                                  std::to_string(WEXITSTATUS(wstatus)) +
                                                  " without a result");
    return result;
  }
  memcpy(&size, received.data(), sizeof(size));
  if (received.size() != sizeof(size) + size) {
    result.status = Status(ErrorClass::kLost, "worker result truncated");
    return result;
  }
  result.payload = received.substr(sizeof(size));
  return result;
}

}  // namespace harness::worker
