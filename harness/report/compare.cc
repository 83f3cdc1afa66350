#include "harness/report/compare.h"

#include <algorithm>
#include <map>
#include <set>

namespace harness::report {

using verdict::Outcome;

std::vector<std::string> ComparabilityNotes(const std::vector<const RunResults*>& runs) {
  std::vector<std::string> notes;
  const auto differing = [&](const std::string& what, auto field) {
    std::set<std::string> values;
    for (const RunResults* r : runs) values.insert(field(r->run));
    if (values.size() < 2) return;
    std::string note = "runs differ in " + what + ":";
    for (size_t k = 0; k < runs.size(); ++k) {
      const std::string value = field(runs[k]->run);
      note += " run " + std::to_string(k + 1) + " " + (value.empty() ? "unknown" : value) + (k + 1 < runs.size() ? "," : "");
    }
    notes.push_back(note);
  };
  differing("harness version (fields may have changed meaning)",
            [](const RunInfo& r) { return r.harness_version; });
  differing("LibTorch (differences may come from LibTorch, not the loader)", [](const RunInfo& r) {
    return r.torch_version.empty() ? std::string() : r.torch_version + (r.torch_has_cuda ? " CUDA" : " CPU-only");
  });
  for (size_t k = 0; k < runs.size(); ++k) {
    for (const std::string& w : runs[k]->warnings) notes.push_back("run " + std::to_string(k + 1) + ": " + w);
  }
  if (runs.size() > 1) {
    std::set<std::string> first;
    for (const CaseResult& c : runs[0]->cases) first.insert(c.id);
    for (size_t k = 1; k < runs.size(); ++k) {
      const bool shares = std::any_of(runs[k]->cases.begin(), runs[k]->cases.end(),
                                      [&](const CaseResult& c) { return first.count(c.id) > 0; });
      if (!shares) {
        notes.push_back("run " + std::to_string(k + 1) + " shares no cell with run 1: other scenario files?");
      }
    }
  }
  return notes;
}

std::vector<MergedCell> Merge(const std::vector<RunResults>& runs) {
  std::vector<MergedCell> rows;
  std::map<std::string, size_t> row_of;
  for (size_t k = 0; k < runs.size(); ++k) {
    for (const CaseResult& c : runs[k].cases) {
      auto [it, added] = row_of.emplace(c.id, rows.size());
      if (added) {
        rows.push_back({c.id, c.file, c.strategy, c.environment, std::vector<const CaseResult*>(runs.size())});
      }
      rows[it->second].by_run[k] = &c;
    }
  }
  for (MergedCell& row : rows) {
    // Compared with the first run that measured the cell; a skip is "not
    // here", not a difference.
    int reference = -1;
    bool virtual_devices = false, real_gpus = false;
    for (size_t k = 0; k < runs.size(); ++k) {
      const CaseResult* c = row.by_run[k];
      if (!c || !c->measured) continue;
      virtual_devices |= runs[k].run.backend == "virtual";
      real_gpus |= runs[k].run.backend == "real" && runs[k].run.physical_gpus > 0;
      if (reference < 0) {
        reference = static_cast<int>(k);
        continue;
      }
      const CaseResult& ref = *row.by_run[reference];
      const std::string prefix = "run " + std::to_string(k + 1) + " vs run " + std::to_string(reference + 1) + ": ";
      if (c->verdict != ref.verdict) {
        row.differences.push_back(prefix + "verdict: " + verdict::OutcomeName(ref.verdict) + " -> " +
                                  verdict::OutcomeName(c->verdict));
      }
      for (const verdict::Difference& d : verdict::Compare(*ref.measured, *c->measured)) {
        row.differences.push_back(prefix + d.ToString());
      }
    }
    row.fidelity = virtual_devices && real_gpus;
  }
  return rows;
}

std::string_view CellChangeName(CellChange::Kind kind) {
  switch (kind) {
    case CellChange::Kind::kNewlyFailing:
      return "newly failing";
    case CellChange::Kind::kFixed:
      return "fixed";
    case CellChange::Kind::kOutcome:
      return "outcome changed";
    case CellChange::Kind::kMeasurement:
      return "measurement changed";
    case CellChange::Kind::kAdded:
      return "added";
    case CellChange::Kind::kRemoved:
      return "removed";
  }
  return "changed";
}

int DiffResult::Count(CellChange::Kind kind) const {
  return static_cast<int>(
      std::count_if(changes.begin(), changes.end(), [&](const CellChange& c) { return c.kind == kind; }));
}

bool DiffResult::Regressed() const {
  return std::any_of(changes.begin(), changes.end(), [](const CellChange& c) { return c.regression; });
}

RunResults Flatten(const std::vector<RunResults>& runs, bool prefix_titles) {
  if (runs.size() == 1 && !prefix_titles) return runs[0];
  RunResults flat;
  if (!runs.empty()) flat.run = runs[0].run;
  flat.run.label.clear();
  std::map<std::string, int> seen;
  for (const RunResults& r : runs) {
    // Two runs of one title would give two cells one id: number the second.
    std::string title = r.run.Title();
    if (const int n = ++seen[title]; n > 1) {
      flat.warnings.push_back("more than one run is titled \"" + title + "\": give each runner its own --label");
      title += " (" + std::to_string(n) + ")";
    }
    flat.run.label += (flat.run.label.empty() ? "" : " + ") + title;
    flat.source += (flat.source.empty() ? "" : ", ") + r.source;
    for (const std::string& w : r.warnings) flat.warnings.push_back(title + ": " + w);
    for (CaseResult c : r.cases) {
      c.id = title + ": " + c.id;
      flat.cases.push_back(std::move(c));
    }
  }
  return flat;
}

DiffResult Diff(const RunResults& baseline, const RunResults& current, const verdict::Tolerance& tolerance) {
  DiffResult result;
  result.notes = ComparabilityNotes({&baseline, &current});
  std::map<std::string, const CaseResult*> before;
  for (const CaseResult& c : baseline.cases) before[c.id] = &c;
  std::set<std::string> seen;
  for (const CaseResult& now : current.cases) {
    seen.insert(now.id);
    CellChange change;
    change.id = now.id;
    change.file = now.file;
    change.after = &now;
    auto it = before.find(now.id);
    if (it == before.end()) {
      change.kind = verdict::IsFailing(now.verdict) ? CellChange::Kind::kNewlyFailing : CellChange::Kind::kAdded;
      change.regression = verdict::IsFailing(now.verdict);
      result.changes.push_back(std::move(change));
      continue;
    }
    const CaseResult& then = *it->second;
    change.before = &then;
    if (then.measured && now.measured) change.differences = verdict::Compare(*then.measured, *now.measured, tolerance);
    const bool failed_then = verdict::IsFailing(then.verdict), fails_now = verdict::IsFailing(now.verdict);
    const bool lost_coverage = then.verdict != Outcome::kSkipped && now.verdict == Outcome::kSkipped;
    if (fails_now && !failed_then) {
      change.kind = CellChange::Kind::kNewlyFailing;
    } else if (failed_then && !fails_now && now.verdict != Outcome::kSkipped) {
      change.kind = CellChange::Kind::kFixed;
    } else if (then.verdict != now.verdict ||
               std::any_of(change.differences.begin(), change.differences.end(), [](const verdict::Difference& d) {
                 return d.kind == verdict::Difference::Kind::kOutcome;
               })) {
      change.kind = CellChange::Kind::kOutcome;
    } else if (!change.differences.empty()) {
      change.kind = CellChange::Kind::kMeasurement;
    } else {
      ++result.unchanged;
      continue;
    }
    // The one rule: a cell regressed when it fails now and did not, when it
    // is no longer measured (a runner lost its GPU), or when it moved more
    // bytes or peaked higher, whatever its verdict.
    change.regression = (fails_now && !failed_then) || lost_coverage;
    for (const verdict::Difference& d : change.differences) {
      const bool costs_more =
          (d.kind == verdict::Difference::Kind::kBytes || d.kind == verdict::Difference::Kind::kPeak) && d.delta > 0;
      change.regression |= costs_more;
    }
    result.changes.push_back(std::move(change));
  }
  for (const CaseResult& then : baseline.cases) {
    if (seen.count(then.id)) continue;
    CellChange change;
    change.kind = CellChange::Kind::kRemoved;
    change.id = then.id;
    change.file = then.file;
    change.before = &then;
    change.regression = true;  // coverage lost, like a cell now skipped
    result.changes.push_back(std::move(change));
  }
  // Regressions first (a cut Markdown keeps them), then by kind and id.
  std::stable_sort(result.changes.begin(), result.changes.end(), [](const CellChange& a, const CellChange& b) {
    if (a.regression != b.regression) return a.regression;
    return a.kind != b.kind ? a.kind < b.kind : a.id < b.id;
  });
  return result;
}

}  // namespace harness::report
