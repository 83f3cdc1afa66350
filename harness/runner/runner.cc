#include "harness/runner/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fixtures/fixture.h"
#include "fixtures/integrity.h"
#include "fixtures/retag/retag.h"
#include "fixtures/zip_signature.h"
#include "harness/base/exception_boundary.h"
#include "harness/base/files.h"
#include "harness/base/status_json.h"
#include "harness/env/environment.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
#include "harness/recorder/cupti/injected.h"
#include "harness/recorder/recorder.h"
#include "harness/strategy/external.h"
#include "harness/strategy/strategy.h"
#include "harness/worker/worker.h"

namespace harness::runner {
namespace {

using nlohmann::json;

// What worker 2 sends back: a measurement, or why the case cannot run here
// (an external command's own "skip").
struct WorkerReply {
  verdict::Measured measured;
  std::string skip;
  std::string command_output;
};

void to_json(json& j, const WorkerReply& r) {
  j = {{"measured", r.measured}, {"skip", r.skip}, {"command_output", r.command_output}};
}
void from_json(const json& j, WorkerReply& r) {
  j.at("measured").get_to(r.measured);
  j.at("skip").get_to(r.skip);
  j.at("command_output").get_to(r.command_output);
}

// The fixture worker's answer.
struct FixtureReply {
  Status status;
  fixtures::Fixture fixture;
};

void to_json(json& j, const FixtureReply& r) {
  j = {{"status", r.status}};
  if (r.status.ok()) {
    j["checkpoint"] = r.fixture.checkpoint_path;
    j["manifest"] = r.fixture.manifest;
  }
}
void from_json(const json& j, FixtureReply& r) {
  j.at("status").get_to(r.status);
  if (r.status.ok()) {
    j.at("checkpoint").get_to(r.fixture.checkpoint_path);
    j.at("manifest").get_to(r.fixture.manifest);
  }
}

// Runs `body` in a worker and reads its typed reply. An exception from the
// harness's own code in the worker (not the loader's: the recorder
// classifies those) becomes a kInternal Status through the one exception
// boundary; a worker that dies, hangs or garbles its reply is kCrashed,
// kTimeout or kLost.
template <typename Reply>
Result<Reply> RunWorker(const std::function<Reply()>& body, double timeout_seconds, int64_t memory_limit_bytes,
                        worker::WorkerResult* raw, const std::function<Reply(Status)>& on_harness_error) {
  *raw = worker::RunInWorker(
      [&] {
        Reply reply;
        Status harness_error = RunGuarded([&] { reply = body(); }, Thrower::kHarness);
        if (!harness_error.ok()) reply = on_harness_error(harness_error);
        return DumpJson(reply);
      },
      timeout_seconds, memory_limit_bytes);
  if (!raw->status.ok()) return raw->status;
  json j = json::parse(raw->payload, nullptr, false);
  if (j.is_discarded()) return Status(ErrorClass::kLost, "worker sent malformed JSON");
  try {
    return j.get<Reply>();
  } catch (const json::exception& e) {
    return Status(ErrorClass::kLost, std::string("worker sent an incomplete reply: ") + e.what());
  }
}

// The archive check's answer (fixtures::CheckStorages and the readers it needs).
struct ArchiveCheckReply {
  Status status;
};
void to_json(json& j, const ArchiveCheckReply& r) { j = {{"status", r.status}}; }
void from_json(const json& j, ArchiveCheckReply& r) { j.at("status").get_to(r.status); }

// When a loader crashed, hung up or failed with a message no rule knows, the
// harness's own structural check of the archive says what in the file may
// have provoked it: "crashed: ...; archive check: record data/3 is 12 bytes,
// its storage needs 7724 (...)". The outcome stays (it is the finding), except
// that an unclassified one takes the class the check found. The check reads
// a hostile file, so it runs in a worker too.
void ExplainFailure(const std::string& checkpoint, int64_t memory_limit_bytes, Status* outcome) {
  const ErrorClass got = outcome->error_class();
  if (got != ErrorClass::kInternal && got != ErrorClass::kCrashed && got != ErrorClass::kLost) return;
  worker::WorkerResult raw;
  Result<ArchiveCheckReply> reply = RunWorker<ArchiveCheckReply>(
      [&] {
        Status signature = fixtures::CheckZipSignature(checkpoint);
        if (!signature.ok()) return ArchiveCheckReply{signature};
        Result<std::vector<fixtures::StorageInfo>> storages = fixtures::ListStorages(checkpoint);
        return ArchiveCheckReply{storages.ok() ? fixtures::CheckStorages(*storages) : storages.status()};
      },
      60, memory_limit_bytes, &raw, [](Status harness_error) { return ArchiveCheckReply{harness_error}; });
  const Status check = reply.ok() ? reply->status : reply.status();
  const std::string said = check.ok() ? "no structural problem found" : check.message();
  const ErrorClass adopted = got == ErrorClass::kInternal && !check.ok() && reply.ok() ? check.error_class() : got;
  *outcome = Status(adopted, outcome->message() + "; archive check: " + said);
}

// LibTorch's C++ loaders build tensors from what the pickle says: a record
// shorter than its storage, or an offset past it, crashes them or loads
// wrong bytes, where Python's torch.load refuses. So the harness checks the
// archive's structure (what `fixtures inspect --check` says) before a
// built-in strategy sees it, and refuses a file whose storages lie as
// corrupt-checkpoint. What the check cannot judge is left to the loader.
// It runs before the recorder starts: reading the archive is the harness's
// cost, not the loader's.
Status RefuseLyingStorages(const std::string& checkpoint) {
  Result<std::vector<fixtures::StorageInfo>> storages = fixtures::ListStorages(checkpoint);
  if (!storages.ok()) return OkStatus();  // the loader says what is wrong, in its words
  const Status checked = fixtures::CheckStorages(*storages);
  if (checked.error_class() != ErrorClass::kCorruptCheckpoint) return OkStatus();
  return Status(ErrorClass::kCorruptCheckpoint, checkpoint + ": " + checked.message());
}

// Worker 1: the fixture, made with as many devices as its placement needs.
FixtureReply GenerateInWorker(const scenario::Case& c, const RunOptions& o) {
  if (o.backend == env::Backend::kVirtual) {
    env::ConfigureVirtualCuda({.device_count = fixtures::MaxCudaIndex(c.fixture.placement) + 1});
  }
  Result<fixtures::Fixture> f = fixtures::Generate(c.fixture, o.cache_dir);
  if (!f.ok()) return {f.status(), {}};
  return {OkStatus(), *f};
}

// The ledger of an external command from its CUPTI trace, or why there is none.
void AddInjectedLedger(const std::optional<recorder::cupti::InjectedTrace>& trace, const Result<std::string>& injection,
                       const strategy::ExternalResult& r, const fixtures::Manifest& manifest, double wall_seconds,
                       bool virtual_devices, bool fresh_process, verdict::Measured* m) {
  if (!trace.has_value()) {
    m->ledger_unavailable = injection.ok() ? "no directory for CUPTI's reports" : injection.status().message();
  } else if (!trace->measured) {
    m->ledger_unavailable = "CUPTI injection: " + trace->why;
  } else if (std::string escaped = recorder::cupti::UntracedPlacement(r.placement, trace->tally); !escaped.empty()) {
    m->ledger_unavailable = "CUPTI injection: " + escaped;
  } else {
    recorder::Ledger ledger = recorder::LedgerFromInjectedTally(
        trace->tally, trace->note, virtual_devices ? "virtual-cuda-runtime" : "cupti-injection");
    ledger.checkpoint_bytes = manifest.storage_bytes;
    ledger.wall_seconds = wall_seconds;  // the whole command
    // Only a fresh process's own peak: a fork server's child also counts the
    // pages it shares with the server and writes to (external.h).
    if (r.host_peak_bytes && fresh_process) {
      // The command measured its own host peak (external.h): memory.cpu is
      // measured after all.
      ledger.memory["cpu"].peak_bytes = *r.host_peak_bytes;
      ledger.unmeasured.erase(std::remove(ledger.unmeasured.begin(), ledger.unmeasured.end(), "memory.cpu"),
                              ledger.unmeasured.end());
      ledger.notes["host-peak"] = "the command's own resident-set peak above its level before the load "
                                  "(VmHWM after /proc/self/clear_refs)";
    }
    m->ledger = std::move(ledger);
  }
}

// Worker 2 for an external strategy: the command runs in its own processes
// with the environment given through its variables, traced by CUPTI
// injection (recorder/cupti/injected.h) for its ledger.
WorkerReply ExternalInWorker(const scenario::Case& c, const RunOptions& o, const fixtures::Fixture& fixture) {
  WorkerReply reply;
  verdict::Measured& m = reply.measured;
  m.target = c.target;
  m.checkpoint_bytes = fixture.manifest.storage_bytes;
  const std::string command =
      strategy::ExpandCommand(c.command, fixture.checkpoint_path, c.target, fixture.manifest.format);
  const char* inherited = std::getenv("LD_LIBRARY_PATH");
  auto child_env = env::ProcessEnvironment(c.environment, o.backend, o.host, inherited ? inherited : "");
  // Virtual devices come from the virtual CUDA runtime, preloaded after the
  // injection library, which reports its counts (env/virtual_runtime).
  const bool virtual_devices = env::UsesVirtualRuntime(c.environment, o.backend, o.host);
  const std::string virtual_runtime = virtual_devices ? o.host.virtual_cuda_runtime : "";
  Result<std::string> injection = recorder::cupti::FindInjectionLibrary();
  // Absolute: the command may change directory.
  Result<std::string> trace_dir_made =
      injection.ok() ? MakeTempDirectory("harness-cupti-") : Result<std::string>(injection.status());
  const std::string trace_dir = injection.ok() && trace_dir_made.ok() ? *trace_dir_made : "";
  if (!trace_dir.empty()) {
    for (auto& kv : recorder::cupti::InjectionEnvironment(*injection, trace_dir, virtual_runtime)) {
      child_env.push_back(kv);
    }
  } else if (virtual_devices) {
    const char* preload = std::getenv("LD_PRELOAD");
    child_env.emplace_back("LD_PRELOAD", virtual_runtime + (preload != nullptr && *preload ? " " + std::string(preload) : ""));
  }
  const auto t0 = std::chrono::steady_clock::now();
  // A host-memory bound is measured in a process of its own (external.h).
  const bool fresh_process = c.expect.peak.count("cpu") > 0;
  strategy::ExternalResult r = strategy::RunExternalCommand(command, child_env, fresh_process);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::optional<recorder::cupti::InjectedTrace> trace;
  if (!trace_dir.empty()) {
    trace = recorder::cupti::ReadInjectedTrace(trace_dir);
    RemoveTree(trace_dir);
  }
  reply.command_output = r.raw_output;
  if (!r.skip.empty()) {
    reply.skip = r.skip;
    return reply;
  }
  m.outcome = r.outcome;
  AddInjectedLedger(trace, injection, r, fixture.manifest, wall, virtual_devices,
                    fresh_process || strategy::PythonForkServers().empty(), &m);
  if (!r.outcome.ok()) return reply;
  m.placement = r.placement;
  fixtures::LoadedTensors loaded;
  for (const auto& [name, digest] : r.sha256) {
    auto storage = r.storage.find(name);
    loaded.emplace_back(name, fixtures::LoadedTensor{digest, storage == r.storage.end() ? 0 : storage->second});
  }
  m.integrity = fixtures::CompareWithManifest(fixture.manifest, loaded, c.expect.sharing);
  return reply;
}

// Worker 2: environment -> strategy under the recorder -> checks.
WorkerReply LoadInWorker(const scenario::Case& c, const RunOptions& o, const fixtures::Fixture& fixture) {
  WorkerReply reply;
  verdict::Measured& m = reply.measured;
  m.target = c.target;
  m.checkpoint_bytes = fixture.manifest.storage_bytes;
  m.outcome = env::Realize(c.environment, o.backend, o.host);
  if (!m.outcome.ok()) return reply;
  const strategy::Strategy* s = strategy::FindStrategy(c.strategy);
  if (s == nullptr) {
    m.outcome = Status(ErrorClass::kInvalidScenario, "no strategy named '" + c.strategy + "' is linked in");
    return reply;
  }
  const strategy::LoadRequest request{fixture.checkpoint_path,
                                      fixtures::FormatFromName(fixture.manifest.format).value_or(c.fixture.format),
                                      c.target, c.device_map};
  m.outcome = RefuseLyingStorages(fixture.checkpoint_path);
  if (!m.outcome.ok()) return reply;
  recorder::Ledger ledger;
  ledger.checkpoint_bytes = fixture.manifest.storage_bytes;
  std::optional<fixtures::LoadedCheckpoint> loaded;
  m.outcome = recorder::RunRecorded([&] { loaded = s->Load(request); }, &ledger);
  m.ledger = std::move(ledger);
  if (!m.outcome.ok() || !loaded.has_value()) return reply;
  // What the loader returned, read as its caller would: an exception here
  // is the loader's outcome, not an integrity finding.
  fixtures::NamedTensors tensors;
  m.outcome = RunGuarded([&] {
    tensors = loaded->Tensors();
    for (const auto& [name, t] : tensors) m.placement[name] = t.device().str();
  });
  if (!m.outcome.ok()) return reply;
  Status integrity;
  const Status thrown =
      RunGuarded([&] { integrity = fixtures::CheckIntegrity(fixture.manifest, tensors, c.expect.sharing); });
  m.integrity = thrown.ok() ? integrity : thrown;
  return reply;
}

// The case's fixture: one that exists already (a golden file, the cache)
// needs no worker; one to generate gets its own, with the devices its
// placement needs.
Result<fixtures::Fixture> ObtainFixture(const scenario::Case& c, const RunOptions& o) {
  if (std::optional<fixtures::Fixture> existing = fixtures::FindExisting(c.fixture, o.cache_dir)) {
    return *existing;
  }
  worker::WorkerResult raw;
  // Uncapped: the harness's own generator, whose fixtures SkipReason sizes.
  Result<FixtureReply> reply = RunWorker<FixtureReply>([&] { return GenerateInWorker(c, o); }, c.timeout_seconds,
                                                       /*memory_limit_bytes=*/0, &raw,
                                                       [](Status harness_error) {
                                                         return FixtureReply{harness_error, {}};
                                                       });
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return reply->fixture;
}

CaseReport Skipped(CaseReport r, std::string reason) {
  r.skip_reason = std::move(reason);
  r.verdict.outcome = verdict::Outcome::kSkipped;
  r.verdict.reasons.push_back(r.skip_reason);
  return r;
}

}  // namespace

std::vector<std::unique_ptr<strategy::PythonForkServer>> StartPythonForkServers(
    const std::vector<scenario::Case>& cases, const RunOptions& o, std::string* why_not) {
  std::vector<std::unique_ptr<strategy::PythonForkServer>> servers;
  const char* python = std::getenv("HARNESS_PYTHON");
  bool any_python = false, any_virtual = false;
  for (const scenario::Case& c : cases) {
    if (c.command.empty() || !scenario::NeedsOf(c).python) continue;
    any_python = true;
    any_virtual |= env::UsesVirtualRuntime(c.environment, o.backend, o.host);
  }
  if (!any_python || python == nullptr || *python == '\0') return servers;
  Result<std::string> script = strategy::FindForkServerScript();
  if (!script.ok()) {
    *why_not = script.status().message();
    return servers;
  }
  // The LD_PRELOAD that ExternalInWorker gives a cell, exactly.
  Result<std::string> injection = recorder::cupti::FindInjectionLibrary();
  const char* inherited = std::getenv("LD_PRELOAD");
  auto preload = [&](const std::string& also) {
    std::string list = injection.ok() ? *injection : "";
    for (const std::string& more : {also, std::string(inherited != nullptr ? inherited : "")}) {
      if (!more.empty()) list += (list.empty() ? "" : " ") + more;
    }
    return list;
  };
  std::vector<std::string> preloads = {preload("")};
  if (any_virtual) preloads.push_back(preload(o.host.virtual_cuda_runtime));
  std::vector<std::string> sockets;
  for (const std::string& list : preloads) {
    Result<std::unique_ptr<strategy::PythonForkServer>> server =
        strategy::PythonForkServer::Start(python, *script, {{"LD_PRELOAD", list}});
    if (!server.ok()) {
      *why_not += (why_not->empty() ? "" : "; ") + server.status().message();
      continue;
    }
    sockets.push_back((*server)->socket_path());
    servers.push_back(std::move(*server));
  }
  strategy::UsePythonForkServers(sockets);
  return servers;
}

int64_t DefaultWorkerMemoryLimit(const env::HostFacts& host) { return host.memory_available_bytes / 4 * 3; }

std::string DefaultCacheDir() {
  if (const char* d = std::getenv("HARNESS_CACHE_DIR")) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.cache/ckpt-harness/fixtures";
}

CaseReport RunCase(const scenario::Case& c, const RunOptions& o) {
  CaseReport r;
  r.c = c;
  if (std::string why = scenario::SkipReason(c, o.backend, o.host); !why.empty()) return Skipped(r, why);
  Result<fixtures::Fixture> fixture = ObtainFixture(c, o);
  if (!fixture.ok()) {
    const Status& failed = fixture.status();
    if (failed.error_class() == ErrorClass::kEnvNotRealized) return Skipped(r, "fixture: " + failed.message());
    r.measured.outcome = failed;
    r.verdict = verdict::Judge(c.expect, r.measured);
    r.verdict.reasons.insert(r.verdict.reasons.begin(), "fixture generation failed: " + failed.ToString());
    r.verdict.outcome = verdict::Outcome::kFail;
    return r;
  }
  worker::WorkerResult raw;
  Result<WorkerReply> reply = RunWorker<WorkerReply>(
      [&] { return c.command.empty() ? LoadInWorker(c, o, *fixture) : ExternalInWorker(c, o, *fixture); },
      c.timeout_seconds, o.worker_memory_bytes, &raw,
      [&](Status harness_error) {
        WorkerReply failed;
        failed.measured.target = c.target;
        failed.measured.outcome = harness_error;
        return failed;
      });
  r.wall_seconds = raw.wall_seconds;
  r.worker_output = raw.output;
  if (!reply.ok()) {
    r.measured.outcome = reply.status();  // timeout / crashed / lost
    r.measured.target = c.target;
  } else if (!reply->skip.empty()) {
    return Skipped(r, reply->skip);
  } else {
    r.measured = std::move(reply->measured);
    r.command_output = std::move(reply->command_output);
  }
  ExplainFailure(fixture->checkpoint_path, o.worker_memory_bytes, &r.measured.outcome);
  r.verdict = verdict::Judge(c.expect, r.measured);
  return r;
}

CaseReport RunCaseRepeated(const scenario::Case& c, const RunOptions& o, int repeat) {
  CaseReport first = RunCase(c, o);
  first.repetitions = 1;
  if (first.verdict.outcome == verdict::Outcome::kSkipped) return first;
  std::vector<std::string> disagreements;
  for (int k = 2; k <= repeat; ++k) {
    CaseReport again = RunCase(c, o);
    ++first.repetitions;
    const std::string prefix = "repetition " + std::to_string(k) + " of " + std::to_string(repeat) + ": ";
    if (again.verdict.outcome != first.verdict.outcome) {
      disagreements.push_back(prefix + "verdict: " + verdict::OutcomeName(first.verdict.outcome) + " -> " +
                              verdict::OutcomeName(again.verdict.outcome));
    }
    for (const verdict::Difference& d : verdict::Compare(first.measured, again.measured)) {
      disagreements.push_back(prefix + d.ToString());
    }
  }
  if (!disagreements.empty()) {
    first.verdict.reasons.insert(first.verdict.reasons.begin(), disagreements.begin(), disagreements.end());
    first.verdict.reasons.insert(first.verdict.reasons.begin(),
                                 "flaky: repetitions disagree (the first was " +
                                     verdict::OutcomeName(first.verdict.outcome) + ")");
    first.verdict.outcome = verdict::Outcome::kFlaky;
  }
  return first;
}

}  // namespace harness::runner
