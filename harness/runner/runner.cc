#include "harness/runner/runner.h"

#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>

#include <nlohmann/json.hpp>

#include "fixtures/fixture.h"
#include "harness/env/virtual_cuda/virtual_cuda.h"
#include "harness/recorder/cupti/injected.h"
#include "harness/recorder/recorder.h"
#include "harness/strategy/external.h"
#include "harness/strategy/strategy.h"
#include "harness/worker/worker.h"

namespace harness::runner {
namespace {

using nlohmann::json;

// Raw messages and command output may hold bytes that are not UTF-8.
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json StatusJson(const Status& s) {
  return {{"class", std::string(ErrorClassName(s.error_class()))}, {"message", s.message()}};
}

Status StatusFromJson(const json& j) {
  auto cls = ErrorClassFromName(j.at("class").get<std::string>());
  return Status(cls.value_or(ErrorClass::kInternal), j.at("message").get<std::string>());
}

// An exception that escapes a worker's own code (not the loader's, which the
// recorder classifies) is a harness error: reported as kInternal under `key`
// instead of aborting the worker.
std::string Guarded(const char* key, const std::function<std::string()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    json out;
    out[key] = StatusJson(Status(ErrorClass::kInternal, std::string("harness error in worker: ") + e.what()));
    return Dump(out);
  }
}

// Worker 1: the fixture, made with as many devices as its placement needs.
std::string GenerateInWorker(const scenario::Case& c, const RunOptions& o) {
  int needed = fixtures::MaxCudaIndex(c.fixture.placement) + 1;
  if (o.backend == env::Backend::kVirtual) env::ConfigureVirtualCuda({.device_count = needed});
  Result<fixtures::Fixture> f = fixtures::Generate(c.fixture, o.cache_dir);
  json out;
  if (!f.ok()) {
    out["status"] = StatusJson(f.status());
  } else {
    out["status"] = StatusJson(OkStatus());
    out["checkpoint"] = f->checkpoint_path;
    out["manifest"] = f->manifest.ToJson();
  }
  return Dump(out);
}

// A fresh directory for the injected processes' reports, absolute (the
// command may change directory), or "".
std::string MakeTraceDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/harness-cupti-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  char absolute[PATH_MAX];
  return realpath(pattern.c_str(), absolute) != nullptr ? absolute : pattern;
}

void RemoveTraceDir(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") unlink((dir + "/" + name).c_str());
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

// Worker 2 for an external strategy: the command runs in its own processes
// with the environment given through its variables, traced by CUPTI
// injection (recorder/cupti/injected.h) for its ledger.
std::string ExternalInWorker(const scenario::Case& c, const RunOptions& o, const std::string& checkpoint,
                             const fixtures::Manifest& manifest) {
  json out;
  out["target"] = c.target;
  out["checkpoint_bytes"] = manifest.storage_bytes;
  std::string command = strategy::ExpandCommand(c.command, checkpoint, c.target, manifest.format);
  auto child_env = env::ProcessEnvironment(c.environment, o.host);
  Result<std::string> injection = recorder::cupti::FindInjectionLibrary();
  const std::string trace_dir = injection.ok() ? MakeTraceDir() : "";
  if (!trace_dir.empty()) {
    for (auto& kv : recorder::cupti::InjectionEnvironment(*injection, trace_dir)) child_env.push_back(kv);
  }
  auto t0 = std::chrono::steady_clock::now();
  strategy::ExternalResult r = strategy::RunExternalCommand(command, child_env);
  auto t1 = std::chrono::steady_clock::now();
  std::optional<recorder::cupti::InjectedTrace> trace;
  if (!trace_dir.empty()) {
    trace = recorder::cupti::ReadInjectedTrace(trace_dir);
    RemoveTraceDir(trace_dir);
  }
  out["command"] = command;
  out["command_output"] = r.raw_output;
  if (!r.skip.empty()) {
    out["skip"] = r.skip;
    return Dump(out);
  }
  out["outcome"] = StatusJson(r.outcome);
  if (!trace.has_value()) {
    out["ledger_unavailable"] = injection.ok() ? "no directory for CUPTI's reports" : injection.status().message();
  } else if (!trace->measured) {
    out["ledger_unavailable"] = "CUPTI injection: " + trace->why;
  } else if (std::string escaped = recorder::cupti::UntracedPlacement(r.placement, trace->tally);
             !escaped.empty()) {
    out["ledger_unavailable"] = "CUPTI injection: " + escaped;
  } else {
    recorder::Ledger ledger = recorder::LedgerFromInjectedTally(trace->tally, trace->note);
    ledger.checkpoint_bytes = manifest.storage_bytes;
    ledger.wall_seconds = std::chrono::duration<double>(t1 - t0).count();  // the whole command
    out["ledger"] = json::parse(ledger.ToJson());
  }
  if (!r.outcome.ok()) return Dump(out);
  out["placement"] = r.placement;
  std::vector<std::string> problems;
  for (const fixtures::TensorRecord& t : manifest.tensors) {
    auto it = r.sha256.find(t.name);
    if (it == r.sha256.end()) problems.push_back(t.name + ": missing");
    else if (it->second != t.sha256) problems.push_back(t.name + ": bytes differ (sha256)");
    if (c.expect.sharing && !t.shares_storage_with.empty() &&
        r.storage[t.name] != r.storage[t.shares_storage_with]) {
      problems.push_back(t.name + ": no longer shares storage with " + t.shares_storage_with);
    }
  }
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
  out["integrity"] = StatusJson(problems.empty() ? OkStatus()
                                                 : Status(ErrorClass::kCorruptCheckpoint, "integrity: " + message));
  return Dump(out);
}

// Worker 2: environment -> strategy under the recorder -> checks.
std::string LoadInWorker(const scenario::Case& c, const RunOptions& o, const std::string& checkpoint,
                         const fixtures::Manifest& manifest) {
  json out;
  out["target"] = c.target;
  out["checkpoint_bytes"] = manifest.storage_bytes;
  Status realized = env::Realize(c.environment, o.backend, o.host);
  if (!realized.ok()) {
    out["outcome"] = StatusJson(realized);
    return Dump(out);
  }
  const strategy::Strategy* s = strategy::FindStrategy(c.strategy);
  if (s == nullptr) {
    out["outcome"] = StatusJson(Status(ErrorClass::kInvalidScenario, "no strategy named '" + c.strategy + "' is linked in"));
    return Dump(out);
  }
  strategy::LoadRequest request{checkpoint, fixtures::FormatFromName(manifest.format).value_or(c.fixture.format),
                               c.target, c.device_map};
  recorder::Ledger ledger;
  ledger.checkpoint_bytes = manifest.storage_bytes;
  std::optional<fixtures::LoadedCheckpoint> loaded;
  Status outcome = recorder::RunRecorded([&] { loaded = s->Load(request); }, &ledger);
  out["outcome"] = StatusJson(outcome);
  out["ledger"] = json::parse(ledger.ToJson());
  if (outcome.ok() && loaded.has_value()) {
    fixtures::NamedTensors tensors = loaded->Tensors();
    json placement = json::object();
    for (const auto& [name, t] : tensors) placement[name] = t.device().str();
    out["placement"] = placement;
    Status integrity = recorder::RunGuarded([&] {
      Status s2 = fixtures::CheckIntegrity(manifest, tensors, c.expect.sharing);
      if (!s2.ok()) throw std::runtime_error(s2.message());
    });
    out["integrity"] = StatusJson(integrity);
  }
  return Dump(out);
}

void ParseMeasured(const json& j, verdict::Measured* m) {
  m->outcome = StatusFromJson(j.at("outcome"));
  m->target = j.value("target", "");
  m->checkpoint_bytes = j.value("checkpoint_bytes", int64_t(0));
  if (j.contains("placement")) {
    for (const auto& [k, v] : j["placement"].items()) m->placement[k] = v.get<std::string>();
  }
  if (j.contains("integrity")) m->integrity = StatusFromJson(j["integrity"]);
  if (j.contains("ledger")) {
    m->has_ledger = true;
    const json& l = j["ledger"];
    m->ledger_json = l.dump();
    for (const char* d : {"host_to_device", "device_to_host", "device_to_device", "host_to_host"}) {
      m->transfer_bytes[d] = l.at(d).at("bytes").get<int64_t>();
    }
    for (const auto& [dev, mem] : l.at("memory").items()) m->peak_bytes[dev] = mem.at("peak_bytes").get<int64_t>();
    for (const auto& field : l.value("unmeasured", json::array())) m->unmeasured.insert(field.get<std::string>());
  }
  m->ledger_unavailable = j.value("ledger_unavailable", "");
}

// The case's fixture: one that exists already (a golden file, the cache)
// needs no worker; one to generate gets its own, with the devices its
// placement needs.
Result<fixtures::Fixture> ObtainFixture(const scenario::Case& c, const RunOptions& o) {
  if (std::optional<fixtures::Fixture> existing = fixtures::FindExisting(c.fixture, o.cache_dir)) {
    return *existing;
  }
  worker::WorkerResult gen = worker::RunInWorker(
      [&] { return Guarded("status", [&] { return GenerateInWorker(c, o); }); }, c.timeout_seconds);
  if (!gen.status.ok()) return gen.status;
  json g = json::parse(gen.payload, nullptr, false);
  if (g.is_discarded()) return Status(ErrorClass::kLost, "fixture worker sent malformed JSON");
  Status status = StatusFromJson(g.at("status"));
  if (!status.ok()) return status;
  Result<fixtures::Manifest> manifest = fixtures::Manifest::FromJson(g.at("manifest").get<std::string>());
  if (!manifest.ok()) return manifest.status();
  fixtures::Fixture f;
  f.checkpoint_path = g.at("checkpoint").get<std::string>();
  f.manifest = *manifest;
  return f;
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* d = std::getenv("HARNESS_CACHE_DIR")) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.cache/ckpt-harness/fixtures";
}

CaseReport RunCase(const scenario::Case& c, const RunOptions& o) {
  CaseReport r;
  r.c = c;
  r.skip_reason = scenario::SkipReason(c, o.backend, o.host);
  if (!r.skip_reason.empty()) {
    r.verdict.outcome = verdict::Outcome::kSkipped;
    r.verdict.reasons.push_back(r.skip_reason);
    return r;
  }
  Result<fixtures::Fixture> fixture = ObtainFixture(c, o);
  if (!fixture.ok()) {
    const Status& failed = fixture.status();
    if (failed.error_class() == ErrorClass::kEnvNotRealized) {
      r.skip_reason = "fixture: " + failed.message();
      r.verdict.outcome = verdict::Outcome::kSkipped;
      r.verdict.reasons.push_back(r.skip_reason);
      return r;
    }
    r.measured.outcome = failed;
    r.verdict = verdict::Judge(c.expect, r.measured);
    r.verdict.reasons.insert(r.verdict.reasons.begin(), "fixture generation failed: " + failed.ToString());
    r.verdict.outcome = verdict::Outcome::kFail;
    return r;
  }
  const std::string& checkpoint = fixture->checkpoint_path;
  const fixtures::Manifest& manifest = fixture->manifest;
  worker::WorkerResult run = worker::RunInWorker(
      [&] {
        return Guarded("outcome", [&] {
          return c.command.empty() ? LoadInWorker(c, o, checkpoint, manifest)
                                   : ExternalInWorker(c, o, checkpoint, manifest);
        });
      },
      c.timeout_seconds);
  r.wall_seconds = run.wall_seconds;
  r.worker_output = run.output;
  if (!run.status.ok()) {
    r.measured.outcome = run.status;  // timeout / crashed / lost
    r.measured.target = c.target;
  } else {
    json j = json::parse(run.payload, nullptr, false);
    if (j.is_discarded()) {
      r.measured.outcome = Status(ErrorClass::kLost, "worker sent malformed JSON");
    } else if (j.contains("skip")) {
      r.skip_reason = j["skip"].get<std::string>();
      r.verdict.outcome = verdict::Outcome::kSkipped;
      r.verdict.reasons.push_back(r.skip_reason);
      return r;
    } else {
      ParseMeasured(j, &r.measured);
      r.command_output = j.value("command_output", "");
    }
  }
  r.verdict = verdict::Judge(c.expect, r.measured);
  return r;
}

std::string CaseReport::ToJson() const {
  json j;
  j["id"] = c.id;
  j["file"] = c.file;
  j["strategy"] = c.strategy;
  j["environment"] = c.environment.name;
  j["target"] = c.target;
  j["fixture"] = c.fixture.CanonicalString();
  j["expected_outcome"] = std::string(ErrorClassName(c.expect.outcome));
  j["verdict"] = verdict::OutcomeName(verdict.outcome);
  j["reasons"] = verdict.reasons;
  if (verdict.outcome != verdict::Outcome::kSkipped) {
    j["outcome"] = StatusJson(measured.outcome);
    j["placement"] = measured.placement;
    if (measured.integrity) j["integrity"] = StatusJson(*measured.integrity);
    j["checkpoint_bytes"] = measured.checkpoint_bytes;
    if (!measured.ledger_json.empty()) j["ledger"] = json::parse(measured.ledger_json);
    if (!measured.ledger_unavailable.empty()) j["ledger_unavailable"] = measured.ledger_unavailable;
  }
  if (!command_output.empty()) j["command_output"] = command_output;
  if (!worker_output.empty()) j["worker_output"] = worker_output;
  j["wall_seconds"] = wall_seconds;
  return Dump(j);
}

}  // namespace harness::runner
