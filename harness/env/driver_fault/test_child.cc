#include "harness/env/driver_fault/test_child.h"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <memory>

#include "tools/cpp/runfiles/runfiles.h"

extern char** environ;

namespace harness::env::testing {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

ChildResult Collect(pid_t pid, int read_fd) {
  ChildResult result;
  result.raw = ReadAll(read_fd);
  close(read_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return result;
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  result.fields = ParseFields(result.raw);
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
  int fds[2];
  if (pipe(fds) != 0) return ChildResult();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return ChildResult();
  }
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = Field("child_exception", e.what());
      code = 3;
    }
    WriteAll(fds[1], out);
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  return Collect(pid, fds[0]);
}

ChildResult RunSelf(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env) {
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : extra_env) {
      if (entry.rfind(name + "=", 0) == 0) replaced = true;
    }
    if (!replaced) env_storage.push_back(entry);
  }
  for (const auto& [name, value] : extra_env) {
    env_storage.push_back(name + "=" + value);
  }
  std::vector<std::string> argv_storage = {"/proc/self/exe"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  // Built before fork: the child only execs.
  std::vector<char*> argv, envp;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) return ChildResult();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return ChildResult();
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    execve("/proc/self/exe", argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  return Collect(pid, fds[0]);
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
  ChildResult r = RunInFork([] {
    return Field("loadable",
                 dlopen("libcuda.so.1", RTLD_NOW) != nullptr ? "1" : "0");
  });
  return r.fields["loadable"] == "1";
}

}  // namespace harness::env::testing
