#include "harness/strategy/external.h"

#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "harness/base/classify.h"
#include "harness/base/subprocess.h"
#include "harness/strategy/python_fork_server.h"

namespace harness::strategy {
namespace {

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

// Enough output to hold the JSON line of a checkpoint with many tensors.
constexpr size_t kOutputLimit = 16 << 20;
constexpr size_t kRawOutputKept = 4096;

// The last non-empty line of `output`, without its line break.
std::string LastLine(const std::string& output) {
  const size_t end = output.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "";
  const size_t newline = output.rfind('\n', end);
  const size_t start = newline == std::string::npos ? 0 : newline + 1;
  return output.substr(start, end - start + 1);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// This process's environment with `extra` replacing variables of the same
// name, as RunProgram gives it to a child.
std::vector<std::string> MergedEnvironment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : extra) replaced |= entry.rfind(name + "=", 0) == 0;
    if (!replaced) merged.push_back(entry);
  }
  for (const auto& [name, value] : extra) merged.push_back(name + "=" + value);
  return merged;
}

}  // namespace

std::string ExpandCommand(const std::string& command, const std::string& checkpoint, const std::string& target,
                          const std::string& format) {
  const char* python = std::getenv("HARNESS_PYTHON");
  std::string out = command;
  ReplaceAll(&out, "{checkpoint}", ShellQuote(checkpoint));
  ReplaceAll(&out, "{target}", ShellQuote(target));
  ReplaceAll(&out, "{format}", ShellQuote(format));
  ReplaceAll(&out, "{python}", ShellQuote(python && *python ? python : "python3"));
  return out;
}

ExternalResult RunExternalCommand(const std::string& command,
                                  const std::vector<std::pair<std::string, std::string>>& extra_env,
                                  bool fresh_process) {
  ExternalResult result;
  // The command stays in the worker's process group: a worker timeout ends
  // it too (a fork server's cell dies with the connection its proxy holds).
  ChildOptions options;
  options.capture = ChildOptions::Capture::kStdoutAndStderr;
  options.output_limit = kOutputLimit;
  Child child;
  const std::vector<std::string>& servers = PythonForkServers();
  std::optional<std::vector<std::string>> words =
      servers.empty() || fresh_process ? std::nullopt : PlainWords(command);
  if (words.has_value() && words->size() >= 2) {
    // A Python fork server may take it (python_fork_server.h); else /bin/sh,
    // as below. Everything the child needs is built before it forks.
    std::vector<std::string> env_storage = MergedEnvironment(extra_env);
    const std::string request = ForkServerRequest(*words, env_storage);
    std::vector<std::string> argv_storage = {"/bin/sh", "-c", command};
    std::vector<char*> argv_ptrs, env_ptrs;
    for (std::string& a : argv_storage) argv_ptrs.push_back(a.data());
    argv_ptrs.push_back(nullptr);
    for (std::string& e : env_storage) env_ptrs.push_back(e.data());
    env_ptrs.push_back(nullptr);
    child = RunChild(
        [&](int) {
          int code = 0;
          if (RunInForkServer(servers, request, &code)) _exit(code);  // no stdio flush in this child
          execve(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
          return 127;
        },
        options);
  } else {
    child = RunProgram({"/bin/sh", "-c", command}, extra_env, options);
  }
  if (!child.started) {
    result.outcome = Status(ErrorClass::kInternal, "cannot start the external strategy: " + child.start_error);
    return result;
  }
  // The shell reports a command it ran that died of a signal as 128 + N.
  const int signal = child.exited ? SignalFromShellExit(child.exit_code) : child.signal;
  const std::string exit = signal == 0 ? "exit " + std::to_string(child.exit_code)
                                       : "killed by " + DescribeSignalDeath(signal);
  ExternalResult parsed = ParseExternalResult(child.output, exit);
  // Killed by a signal without a result: it crashed, whatever it printed.
  if (signal != 0 && parsed.outcome.error_class() == ErrorClass::kLost) {
    parsed.outcome = Status(ErrorClass::kCrashed, parsed.outcome.message());
  }
  return parsed;
}

ExternalResult ParseExternalResult(const std::string& output, const std::string& exit) {
  ExternalResult result;
  result.raw_output = output.size() > kRawOutputKept ? output.substr(output.size() - kRawOutputKept) : output;
  const nlohmann::json j = nlohmann::json::parse(LastLine(output), nullptr, false);
  if (j.is_discarded()) {
    // The loader ended without a result (lost), though its output may still
    // say why: a Python traceback with MemoryError under the worker's cap.
    result.outcome = Status(ClassifyMessage(result.raw_output, ErrorClass::kLost),
                            "external strategy printed no JSON result (" + exit + "): " + result.raw_output);
    return result;
  }
  if (!j.is_object()) {
    result.outcome = Status(ErrorClass::kInternal,
                            "external strategy's result breaks the protocol (harness/strategy/external.h): a JSON " +
                                std::string(j.type_name()) + ", not an object (" + exit + ")");
    return result;
  }
  try {
    if (j.contains("skip")) {
      if (!j.at("skip").is_string() || j.at("skip").get<std::string>().empty()) {
        result.outcome = Status(ErrorClass::kInternal,
                                "external strategy's result breaks the protocol (harness/strategy/external.h): "
                                "\"skip\" must be the reason, a non-empty string; got " +
                                    (j.at("skip").is_primitive() ? j.at("skip").dump().substr(0, 200)
                                                                 : std::string("a JSON ") + j.at("skip").type_name()));
        return result;
      }
      result.skip = j.at("skip").get<std::string>();
      return result;
    }
    if (!j.value("ok", false)) {
      const std::string message = j.value("error", std::string("external strategy failed"));
      result.outcome = Status(ClassifyMessage(message), message);
      return result;
    }
    result.placement = j.value("placement", std::map<std::string, std::string>{});
    result.sha256 = j.value("sha256", std::map<std::string, std::string>{});
    result.storage = j.value("storage", std::map<std::string, int64_t>{});
    if (j.contains("host_peak_bytes")) {
      const nlohmann::json& peak = j.at("host_peak_bytes");
      if (!peak.is_number_integer() || peak.get<int64_t>() < 0) {
        result.outcome = Status(ErrorClass::kInternal,
                                "external strategy's result breaks the protocol (harness/strategy/external.h): "
                                "\"host_peak_bytes\" must be a non-negative integer; got " +
                                    peak.dump().substr(0, 200));
        return result;
      }
      result.host_peak_bytes = peak.get<int64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    result.outcome = Status(ErrorClass::kInternal, std::string("external strategy's JSON: ") + e.what() + ": " +
                                                       LastLine(output).substr(0, 500));
  }
  return result;
}

}  // namespace harness::strategy
