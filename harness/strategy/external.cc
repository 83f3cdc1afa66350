#include "harness/strategy/external.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "harness/env/classify.h"

namespace harness::strategy {
namespace {

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string ExpandCommand(const std::string& command, const std::string& checkpoint,
                          const std::string& target, const std::string& format) {
  const char* python = std::getenv("HARNESS_PYTHON");
  std::string out = command;
  ReplaceAll(&out, "{checkpoint}", ShellQuote(checkpoint));
  ReplaceAll(&out, "{target}", ShellQuote(target));
  ReplaceAll(&out, "{format}", ShellQuote(format));
  ReplaceAll(&out, "{python}", ShellQuote(python && *python ? python : "python3"));
  return out;
}

ExternalResult RunExternalCommand(const std::string& command,
                                  const std::vector<std::pair<std::string, std::string>>& extra_env) {
  ExternalResult result;
  int fds[2];
  if (pipe(fds) != 0) {
    result.outcome = Status(ErrorClass::kInternal, "pipe failed");
    return result;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    for (const auto& [name, value] : extra_env) setenv(name.c_str(), value.c_str(), 1);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) output.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.raw_output = output.size() > 4096 ? output.substr(output.size() - 4096) : output;

  // The JSON object is the last non-empty line.
  size_t end = output.find_last_not_of("\n ");
  size_t start = end == std::string::npos ? std::string::npos : output.rfind('\n', end);
  std::string last = end == std::string::npos ? "" : output.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
  nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    result.outcome = Status(ErrorClass::kInternal,
                            "external strategy printed no JSON result (exit " +
                                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "): " +
                                result.raw_output);
    return result;
  }
  if (j.contains("skip")) {
    result.skip = j["skip"].get<std::string>();
    return result;
  }
  if (!j.value("ok", false)) {
    std::string message = j.value("error", std::string("external strategy failed"));
    result.outcome = Status(env::ClassifyMessage(message), message);
    return result;
  }
  try {
    // Named copies: iterating items() of a temporary would dangle.
    const nlohmann::json placement = j.value("placement", nlohmann::json::object());
    const nlohmann::json sha256 = j.value("sha256", nlohmann::json::object());
    const nlohmann::json storage = j.value("storage", nlohmann::json::object());
    for (const auto& [k, v] : placement.items()) result.placement[k] = v.get<std::string>();
    for (const auto& [k, v] : sha256.items()) result.sha256[k] = v.get<std::string>();
    for (const auto& [k, v] : storage.items()) result.storage[k] = v.get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    result.outcome = Status(ErrorClass::kInternal, std::string("external strategy's JSON: ") + e.what());
  }
  return result;
}

}  // namespace harness::strategy
