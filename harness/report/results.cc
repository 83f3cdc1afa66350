#include "harness/report/results.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/base/files.h"
#include "harness/base/status_json.h"

namespace harness::report {

using nlohmann::json;
using verdict::Outcome;

std::string RunInfo::Title() const {
  if (!label.empty()) return label;
  std::ostringstream title;
  title << (backend.empty() ? "unknown backend" : backend) << ", LibTorch "
        << (torch_version.empty() ? "?" : torch_version) << ", " << physical_gpus << " GPU"
        << (physical_gpus == 1 ? "" : "s");
  if (!gpu_models.empty()) title << " (" << gpu_models[0] << ")";
  return title.str();
}

void to_json(json& j, const RunInfo& r) {
  j = {{"label", r.label},
       {"harness_version", r.harness_version},
       {"commit", r.commit},
       {"torch_version", r.torch_version},
       {"torch_source", r.torch_source},
       {"torch_has_cuda", r.torch_has_cuda},
       {"backend", r.backend},
       {"physical_gpus", r.physical_gpus},
       {"gpu_models", r.gpu_models},
       {"driver_version", r.driver_version},
       {"cuda_toolkit", r.cuda_toolkit},
       {"hostname", r.hostname},
       {"date", r.date},
       {"command_line", r.command_line},
       {"repeat", r.repeat}};
  if (!r.note.empty()) j["note"] = r.note;
}

void from_json(const json& j, RunInfo& r) {
  r.label = j.value("label", "");
  r.harness_version = j.value("harness_version", "");
  r.commit = j.value("commit", "");
  r.torch_version = j.value("torch_version", "");
  r.torch_source = j.value("torch_source", "");
  r.torch_has_cuda = j.value("torch_has_cuda", false);
  r.backend = j.value("backend", "");
  r.physical_gpus = j.value("physical_gpus", 0);
  r.gpu_models = j.value("gpu_models", std::vector<std::string>{});
  r.driver_version = j.value("driver_version", "");
  r.cuda_toolkit = j.value("cuda_toolkit", "");
  r.hostname = j.value("hostname", "");
  r.date = j.value("date", "");
  r.command_line = j.value("command_line", "");
  r.repeat = j.value("repeat", 1);
  r.note = j.value("note", "");
}

void to_json(json& j, const CaseResult& r) {
  j = {{"id", r.id},
       {"file", r.file},
       {"strategy", r.strategy},
       {"environment", r.environment},
       {"target", r.target},
       {"fixture", r.fixture},
       {"hardware_part", r.hardware_part},
       {"expected_outcome", r.expected_outcome},
       {"verdict", verdict::OutcomeName(r.verdict)},
       {"reasons", r.reasons},
       {"wall_seconds", r.wall_seconds}};
  if (r.repetitions != 1) j["repetitions"] = r.repetitions;
  if (!r.skip_reason.empty()) j["skip_reason"] = r.skip_reason;
  if (r.measured) {
    json measured = *r.measured;
    measured.erase("target");  // the case's, above, even when the worker never reported
    j.update(measured);
  }
  if (!r.command_output.empty()) j["command_output"] = r.command_output;
  if (!r.worker_output.empty()) j["worker_output"] = r.worker_output;
}

namespace {

// Byte counts, copy counts and peaks are never negative; a hand-edited one
// would make every comparison meaningless.
void RequireNonNegative(const recorder::Ledger& ledger) {
  const auto check = [](int64_t value, const std::string& field) {
    if (value < 0) throw std::invalid_argument("ledger." + field + " is negative (" + std::to_string(value) + ")");
  };
  for (recorder::Direction d : recorder::kDirections) {
    check(ledger.copies[d].bytes, std::string(recorder::DirectionName(d)) + ".bytes");
    check(ledger.copies[d].count, std::string(recorder::DirectionName(d)) + ".count");
  }
  for (const auto& [device, memory] : ledger.memory) {
    check(memory.allocated_bytes, "memory." + device + ".allocated_bytes");
    check(memory.peak_bytes, "memory." + device + ".peak_bytes");
    check(memory.held_bytes, "memory." + device + ".held_bytes");
  }
}

}  // namespace

void from_json(const json& j, CaseResult& r) {
  j.at("id").get_to(r.id);
  j.at("file").get_to(r.file);
  j.at("strategy").get_to(r.strategy);
  j.at("environment").get_to(r.environment);
  r.target = j.value("target", "");
  r.fixture = j.value("fixture", "");
  r.hardware_part = j.value("hardware_part", "");
  r.expected_outcome = j.value("expected_outcome", "");
  const std::string verdict_name = j.at("verdict").get<std::string>();
  const std::optional<Outcome> outcome = verdict::OutcomeFromName(verdict_name);
  if (!outcome) throw std::invalid_argument("verdict: unknown outcome \"" + verdict_name + "\"");
  r.verdict = *outcome;
  r.reasons = j.value("reasons", std::vector<std::string>{});
  r.skip_reason = j.value("skip_reason", "");
  // Format 1 kept the skip reason only as the first reason.
  if (r.verdict == Outcome::kSkipped && r.skip_reason.empty() && !r.reasons.empty()) r.skip_reason = r.reasons[0];
  if (r.verdict != Outcome::kSkipped) {
    verdict::Measured measured = j.get<verdict::Measured>();
    measured.target = r.target;
    if (measured.ledger) RequireNonNegative(*measured.ledger);
    r.measured = std::move(measured);
  }
  r.command_output = j.value("command_output", "");
  r.worker_output = j.value("worker_output", "");
  r.wall_seconds = j.value("wall_seconds", 0.0);
  r.repetitions = j.value("repetitions", 1);
}

std::string ReportJson(const RunResults& run) {
  return DumpJson(json{{"format", kReportFormat},
                       {"run", run.run},
                       {"summary", Summary(run.cases)},
                       {"cases", run.cases}}) +
         "\n";
}

namespace {

constexpr int64_t kMaxReportBytes = int64_t{256} << 20;

// The document in `file`, or why it is none.
Result<json> ReadJson(const std::string& file) {
  Result<std::string> text = ReadRegularFile(file, kMaxReportBytes);
  if (!text.ok()) return text.status();
  try {
    return json::parse(*text);
  } catch (const json::parse_error& e) {
    // e.what() says where it stopped, so a truncated file says so.
    return Status(ErrorClass::kInvalidArgument, file + ": not a complete JSON document (" + std::string(e.what()) +
                                                    "; the file has " + std::to_string(text->size()) +
                                                    " bytes): truncated, or not a report.json?");
  }
}

std::string ReportFile(const std::string& path) { return IsDirectory(path) ? path + "/report.json" : path; }

}  // namespace

// "format" as written, or 1 (the first format had none); a hostile value
// is no format at all.
int FormatOf(const json& j) {
  return j.is_object() && j.contains("format") && j["format"].is_number_integer() ? j["format"].get<int>() : 1;
}

Result<RunResults> RunResultsFromJson(const json& j, const std::string& source) {
  return RunResultsFromJson(j, source, FormatOf(j));
}

Result<RunResults> RunResultsFromJson(const json& j, const std::string& source, int format) {
  const auto invalid = [&](const std::string& what) {
    return Status(ErrorClass::kInvalidArgument, source + ": " + what);
  };
  if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array()) {
    return invalid("no \"cases\" list: not a report.json written by replay");
  }
  RunResults results;
  results.source = source;
  if (format > kReportFormat) {
    results.warnings.push_back("written in report format " + std::to_string(format) + ", newer than this harness's " +
                               std::to_string(kReportFormat) + ": fields it added are ignored");
  }
  if (j.contains("run") && j["run"].is_object()) {
    try {
      results.run = j["run"].get<RunInfo>();
    } catch (const json::exception& e) {
      results.warnings.push_back(std::string("run facts unreadable, left out: ") + e.what());
    }
  } else {
    results.warnings.push_back("no run facts (report format 1, written before 2026-12): host and versions unknown");
  }
  results.run.format = format;
  if (!results.run.harness_version.empty() && results.run.harness_version != kHarnessVersion) {
    results.warnings.push_back("written by harness " + results.run.harness_version + ", this is " + kHarnessVersion);
  }
  std::map<std::string, size_t> seen;
  const json& cases = j["cases"];
  for (size_t i = 0; i < cases.size(); ++i) {
    try {
      CaseResult c = cases[i].get<CaseResult>();
      if (seen.count(c.id)) {
        results.warnings.push_back("cases[" + std::to_string(i) + "]: \"" + c.id + "\" repeats cases[" +
                                   std::to_string(seen[c.id]) + "], left out");
        continue;
      }
      seen[c.id] = i;
      results.cases.push_back(std::move(c));
    } catch (const std::exception& e) {
      const std::string id =
          cases[i].is_object() && cases[i].contains("id") && cases[i]["id"].is_string() ? cases[i]["id"].get<std::string>() : "";
      results.warnings.push_back("cases[" + std::to_string(i) + "]" + (id.empty() ? "" : " \"" + id + "\"") +
                                 ": unreadable, left out (" + e.what() + ")");
    }
  }
  if (results.cases.empty() && !cases.empty()) {
    return invalid("none of its " + std::to_string(cases.size()) + " cases can be read; the first: " +
                   results.warnings[results.warnings.size() - cases.size()]);
  }
  return results;
}

Result<RunResults> ReadRunResults(const std::string& path) {
  const std::string file = ReportFile(path);
  Result<json> j = ReadJson(file);
  if (!j.ok()) return j.status();
  return RunResultsFromJson(*j, file);
}

Result<std::vector<RunResults>> ReadReports(const std::string& path) {
  const std::string file = ReportFile(path);
  Result<json> j = ReadJson(file);
  if (!j.ok()) return j.status();
  if (!j->is_object() || !j->contains("merged") || !j->contains("runs")) {
    Result<RunResults> one = RunResultsFromJson(*j, file);
    if (!one.ok()) return one.status();
    return std::vector<RunResults>{std::move(*one)};
  }
  const json& runs = j->at("runs");
  if (!runs.is_array() || runs.empty()) {
    return Status(ErrorClass::kInvalidArgument, file + ": a merged report without runs");
  }
  std::vector<RunResults> out;
  for (size_t k = 0; k < runs.size(); ++k) {
    const json& run = runs[k];
    const std::string source = file + " [" + std::to_string(k + 1) + "]";
    if (!run.is_object()) return Status(ErrorClass::kInvalidArgument, source + ": no run");
    Result<RunResults> one = RunResultsFromJson(run, source, FormatOf(*j));
    if (!one.ok()) return one.status();
    // The run's own source, as it was merged.
    if (run.contains("source") && run["source"].is_string()) one->source = run["source"].get<std::string>();
    out.push_back(std::move(*one));
  }
  return out;
}

std::string Summary(const std::vector<CaseResult>& cases) {
  std::map<Outcome, int> n;
  for (const auto& c : cases) n[c.verdict]++;
  // XFAIL counts as passed, XPASS as failed (an unexpected pass is news).
  std::ostringstream s;
  s << n[Outcome::kPass] + n[Outcome::kXFail] << " passed, "
    << n[Outcome::kFail] + n[Outcome::kXPass] + n[Outcome::kFlaky] << " failed, " << n[Outcome::kSkipped]
    << " skipped";
  if (n[Outcome::kFlaky] > 0) s << " (" << n[Outcome::kFlaky] << " flaky)";
  return s.str();
}

std::vector<std::pair<std::string, std::string>> CaseProperties(const CaseResult& r) {
  std::vector<std::pair<std::string, std::string>> properties = {
      {"strategy", r.strategy},
      {"environment", r.environment},
      {"hardware_part", r.hardware_part},
      {"verdict", verdict::OutcomeName(r.verdict)},
  };
  if (!r.measured) return properties;
  const verdict::Measured& m = *r.measured;
  properties.emplace_back("outcome", ErrorClassName(m.outcome.error_class()));
  if (!m.ledger) {
    properties.emplace_back("ledger_unavailable", m.ledger_unavailable);
    return properties;
  }
  for (recorder::Direction d : recorder::kDirections) {
    properties.emplace_back(std::string(recorder::DirectionName(d)) + "_bytes", std::to_string(m.TransferBytes(d)));
  }
  for (const auto& [device, memory] : m.ledger->memory) {
    properties.emplace_back("peak_" + device, std::to_string(memory.peak_bytes));
  }
  return properties;
}

}  // namespace harness::report
