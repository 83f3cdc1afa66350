#include "harness/strategy/python_fork_server.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "harness/base/data_file.h"
#include "harness/base/files.h"

namespace harness::strategy {
namespace {

std::vector<std::string>& Servers() {
  static auto* servers = new std::vector<std::string>();
  return *servers;
}

bool IsPlainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("_./:=,@%+-", c) != nullptr;
}

// Reads one line from `fd` into `line` (blocking; no allocation); false at
// end of file, on error, or for a line longer than the buffer.
bool ReadLine(int fd, char* line, size_t capacity) {
  size_t n = 0;
  while (n + 1 < capacity) {
    const ssize_t got = read(fd, line + n, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    if (line[n] == '\n') {
      line[n] = '\0';
      return true;
    }
    ++n;
  }
  return false;
}

// The integer after "\"key\":" in a one-line JSON reply, if there.
bool ReplyField(const char* line, const char* key, long* value) {
  const char* at = std::strstr(line, key);
  if (at == nullptr) return false;
  at = std::strchr(at + std::strlen(key), ':');
  if (at == nullptr) return false;
  char* end = nullptr;
  *value = std::strtol(at + 1, &end, 10);
  return end != at + 1;
}

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t sent = send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    p += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

// Sends the first byte with `fd_to_pass` attached, then the rest.
bool SendWithDescriptor(int socket_fd, const std::string& message, int fd_to_pass) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec io{const_cast<char*>(message.data()), 1};
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
  ssize_t sent;
  do {
    sent = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent == 1 && SendAll(socket_fd, message.data() + 1, message.size() - 1);
}

int Connect(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return -1;
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<std::string> FindForkServerScript() {
  return FindDataFile({.what = "Python fork server",
                       .env_var = "HARNESS_FORK_SERVER_SCRIPT",
                       .runfiles_path = "ckpt_harness/tools/strategies/fork_server.py",
                       .beside_binary = "fork_server.py"});
}

void UsePythonForkServers(std::vector<std::string> socket_paths) { Servers() = std::move(socket_paths); }
const std::vector<std::string>& PythonForkServers() { return Servers(); }

std::optional<std::vector<std::string>> PlainWords(const std::string& command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const size_t end = command.find('\'', i + 1);
      if (end == std::string::npos) return std::nullopt;
      word += command.substr(i + 1, end - i - 1);
      in_word = true;
      i = end;
    } else if (c == '\\' && i + 1 < command.size() && command[i + 1] == '\'') {
      word += '\'';
      in_word = true;
      ++i;
    } else if (IsPlainChar(c)) {
      word += c;
      in_word = true;
    } else {
      return std::nullopt;
    }
  }
  if (in_word) words.push_back(word);
  if (words.empty()) return std::nullopt;
  return words;
}

std::string ForkServerRequest(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  nlohmann::json request;
  request["argv"] = argv;
  nlohmann::json env_object = nlohmann::json::object();
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) env_object[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  request["env"] = env_object;
  char cwd[PATH_MAX];
  request["cwd"] = getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
  rlimit data{};
  request["memory_limit_bytes"] =
      getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY ? static_cast<int64_t>(data.rlim_cur) : 0;
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool RunInForkServer(const std::vector<std::string>& socket_paths, const std::string& request, int* exit_code) {
  char line[512];
  for (const std::string& path : socket_paths) {
    const int fd = Connect(path);
    if (fd < 0) continue;
    long pid = 0;
    if (!SendWithDescriptor(fd, request, STDOUT_FILENO)) {
      close(fd);  // an incomplete request starts nothing
      continue;
    }
    const bool answered = ReadLine(fd, line, sizeof(line));
    if (answered && std::strstr(line, "\"refused\"") != nullptr) {
      close(fd);  // the next server, or /bin/sh
      continue;
    }
    if (!answered || !ReplyField(line, "\"pid\"", &pid)) {
      // The server may have started the cell before it failed: never run it twice.
      close(fd);
      static const char kLost[] = "the Python fork server failed while starting the cell\n";
      (void)!write(STDERR_FILENO, kLost, sizeof(kLost) - 1);
      *exit_code = 125;
      return true;
    }
    // From here the cell runs: its end is this process's end.
    const bool ended = ReadLine(fd, line, sizeof(line));
    close(fd);
    long value = 0;
    if (ended && ReplyField(line, "\"signal\"", &value)) {
      signal(static_cast<int>(value), SIG_DFL);
      raise(static_cast<int>(value));
      *exit_code = 128 + static_cast<int>(value);
    } else if (ended && ReplyField(line, "\"exit\"", &value)) {
      *exit_code = static_cast<int>(value);
    } else {
      static const char kGone[] = "the Python fork server went away during the cell\n";
      (void)!write(STDERR_FILENO, kGone, sizeof(kGone) - 1);
      *exit_code = 125;
    }
    return true;
  }
  return false;
}

Result<std::unique_ptr<PythonForkServer>> PythonForkServer::Start(
    const std::string& python, const std::string& script,
    const std::vector<std::pair<std::string, std::string>>& env, double ready_seconds) {
  Result<std::string> dir = MakeTempDirectory("harness-fork-server-");
  if (!dir.ok()) return dir.status();
  const std::string socket_path = *dir + "/socket";
  const std::string log_path = *dir + "/server.log";
  int ready_pipe[2];
  if (pipe2(ready_pipe, O_CLOEXEC) != 0) return Status(ErrorClass::kInternal, "pipe failed");
  // Built before fork: the child only execs.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = entry.rfind("HARNESS_CUPTI_OUTPUT_DIR=", 0) == 0;
    for (const auto& [name, value] : env) replaced |= entry.rfind(name + "=", 0) == 0;
    if (!replaced) env_storage.push_back(entry);
  }
  for (const auto& [name, value] : env) env_storage.push_back(name + "=" + value);
  std::vector<std::string> argv_storage = {python, script, socket_path};
  std::vector<char*> argv_ptrs, env_ptrs;
  for (std::string& a : argv_storage) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  for (std::string& e : env_storage) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status(ErrorClass::kInternal, "fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    setpgid(0, 0);  // a replay's Ctrl-C is for the replay; it stops the server itself
    dup2(ready_pipe[1], STDOUT_FILENO);
    if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    execve(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
    _exit(127);
  }
  close(ready_pipe[1]);
  if (log_fd >= 0) close(log_fd);
  std::unique_ptr<PythonForkServer> server(new PythonForkServer(pid, *dir));
  // "ready\n", within the time allowed.
  std::string said;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(ready_seconds);
  while (said.find('\n') == std::string::npos) {
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{ready_pipe[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) break;
    char buffer[256];
    const ssize_t n = read(ready_pipe[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(buffer, static_cast<size_t>(n));
  }
  close(ready_pipe[0]);
  if (said.rfind("ready\n", 0) != 0) {
    Result<std::string> log = ReadRegularFile(log_path, 1 << 20);
    std::string tail = log.ok() ? *log : "";
    if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
    return Status(ErrorClass::kEnvNotRealized, "the Python fork server (" + python + " " + script +
                                                   ") did not start: " + (said.empty() ? tail : said + tail));
  }
  return server;
}

PythonForkServer::~PythonForkServer() {
  kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      RemoveTree(dir_);
      return;
    }
    usleep(20000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  RemoveTree(dir_);
}

}  // namespace harness::strategy
