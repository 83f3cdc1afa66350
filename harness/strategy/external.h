// External-command strategies: a loader that runs in its own process (a
// Python `torch.load`, a user's own tool). The scenario names it under
// `commands:`; the worker runs it after realizing the environment, with the
// environment's variables (CUDA_VISIBLE_DEVICES, the driver stand-in via
// LD_LIBRARY_PATH) set for the child.
//
// The command line may use {checkpoint}, {target}, {format} and {python}
// ($HARNESS_PYTHON, else python3). The command prints one JSON object on its
// last line of stdout:
//   {"ok": true,  "placement": {"w": "cpu"}, "sha256": {"w": "<hex>"},
//                 "storage": {"w": 140234...},   // storage data pointers
//                 "host_peak_bytes": 268435456}  // optional, see below
//   {"ok": false, "error": "RuntimeError: Attempting to deserialize ..."}
//   {"skip": "Python torch is not installed"}
// See tools/strategies/torch_load.py for a complete example. A Python loader
// that is one function load(checkpoint, target, fmt) needs none of this:
//   {python} tools/strategies/harness_loader.py my_loader.py:load --checkpoint {checkpoint} ...
// (with --target {target} --format {format}) reports for it (tools/strategies/example_function_loader.py).
//
// "host_peak_bytes" is the load's own peak of host memory: how far the
// process's resident set rose above its level just before the load. On
// Linux: write "5" to /proc/self/clear_refs (which resets VmHWM to the
// current resident set) after start-up, read VmRSS, load, then read VmHWM
// before anything touches the tensors again. It becomes the ledger's
// memory.cpu peak, so `peak: {cpu: ...}` bounds hold for such loaders too.
//
// The command's processes are traced by CUPTI injection for the case's ledger
// (harness/recorder/cupti/injected.h). A command that checks its tensors
// after loading by copying them to the host calls harness_cupti_mark_loaded()
// (exported by the preloaded library; from Python
// ctypes.CDLL(None).harness_cupti_mark_loaded()) in between, so that only the
// load's own copies count. Synchronise the devices first: a copy still in
// flight has no complete record yet, and an incomplete record leaves the
// case without a ledger.
//
// On virtual GPUs the command's processes get the virtual CUDA runtime
// (harness/env/virtual_runtime) preloaded as well; nothing in the command
// changes. A plain Python command may run in a child of the Python fork
// server (python_fork_server.h), which behaves as a fresh process would.
#ifndef HARNESS_STRATEGY_EXTERNAL_H_
#define HARNESS_STRATEGY_EXTERNAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/status.h"

namespace harness::strategy {

struct ExternalResult {
  Status outcome;    // classified error, if any
  std::string skip;  // non-empty: not runnable here
  std::map<std::string, std::string> placement;
  std::map<std::string, std::string> sha256;
  std::map<std::string, int64_t> storage;  // storage pointer per tensor
  std::optional<int64_t> host_peak_bytes;  // the load's own host peak, if reported
  std::string raw_output;                  // last 4 KiB of stdout+stderr
};

// The command with {checkpoint}, {target}, {format}, {python} substituted.
std::string ExpandCommand(const std::string& command, const std::string& checkpoint, const std::string& target,
                          const std::string& format);

// What a command's output says, by the protocol above: its last line as the
// JSON result (`exit` describes how the command ended, for messages). Any
// output gives a result, classified, never an exception.
ExternalResult ParseExternalResult(const std::string& output, const std::string& exit);

// Runs `command` through /bin/sh with `extra_env` added to the environment.
// Without a JSON line, the end is classified from the output (a message a
// rule knows), else it is kLost; a command killed by a signal is kCrashed.
// The shell reports a command it ran that died of signal N as exit 128 + N,
// so exits 129 to 128 + NSIG - 1 without a result count as that signal
// (a loader that exits 130 on purpose and prints no result reads as SIGINT).
//
// A plain Python command may run in a Python fork server
// (python_fork_server.h) unless `fresh_process`: a forked child's host
// memory grows as it writes to pages it shares with the server (Python's
// reference counts do), so a host-memory measurement needs a process of its
// own.
ExternalResult RunExternalCommand(const std::string& command,
                                  const std::vector<std::pair<std::string, std::string>>& extra_env,
                                  bool fresh_process = false);

}  // namespace harness::strategy

#endif  // HARNESS_STRATEGY_EXTERNAL_H_
