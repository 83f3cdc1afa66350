#include "harness/worker/worker.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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
  if (pipe(fds) != 0) {
    result.status = Status(ErrorClass::kInternal, std::string("pipe: ") + strerror(errno));
    return result;
  }
  pid_t pid = fork();
  if (pid < 0) {
    result.status = Status(ErrorClass::kInternal, std::string("fork: ") + strerror(errno));
    return result;
  }
  if (pid == 0) {
    // Its own process group, so a timeout also ends what it started.
    setpgid(0, 0);
    close(fds[0]);
    std::string payload = body();
    uint64_t size = payload.size();
    bool ok = WriteAll(fds[1], reinterpret_cast<const char*>(&size), sizeof(size)) &&
              WriteAll(fds[1], payload.data(), payload.size());
    _exit(ok ? 0 : 3);
  }
  close(fds[1]);
  std::string received;
  bool timed_out = false;
  char buf[65536];
  for (;;) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int remaining_ms = int((timeout_seconds - elapsed) * 1000);
    if (remaining_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, remaining_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received.append(buf, size_t(n));
  }
  close(fds[0]);
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
