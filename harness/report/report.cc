#include "harness/report/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "harness/base/bytes.h"
#include "harness/base/files.h"
#include "harness/base/status_json.h"

namespace harness::report {
namespace {

using recorder::Direction;
using verdict::Outcome;

// The length of the well-formed UTF-8 sequence at s[i] that XML 1.0 may
// carry, or 0 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF; and not U+FFFE or U+FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  const unsigned char lead = byte(0);
  const auto continuation = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return byte(k) >= lo && byte(k) <= hi;
  };
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2)) return 0;
    // U+FFFE and U+FFFF are UTF-8 but not XML 1.0 characters.
    return lead == 0xEF && byte(1) == 0xBF && byte(2) >= 0xBE ? 0 : 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// Text for XML and HTML, well-formed whatever a loader printed: markup
// characters become entities; control characters other than tab, newline
// and carriage return, and bytes that are not UTF-8, become "\xNN" (XML 1.0
// cannot carry them at all, not even as character references).
std::string Escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t length = Utf8SequenceLength(s, i);
    if (length == 0 || c == 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
      continue;
    }
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.append(s.substr(i, length));
    }
    i += length;
  }
  return out;
}

using CellRef = const CaseResult*;

// "PASS ok h2d=1.00 MiB d2h=0 bytes": verdict, class and bytes moved.
std::string CellText(const CaseResult& r) {
  std::string cell = verdict::OutcomeName(r.verdict);
  if (!r.measured) return cell;
  const verdict::Measured& m = *r.measured;
  cell += " " + std::string(ErrorClassName(m.outcome.error_class()));
  if (m.outcome.ok() && !m.ledger) {
    cell += " (no ledger)";
  } else if (m.outcome.ok()) {
    for (Direction d : {Direction::kHostToDevice, Direction::kDeviceToHost, Direction::kDeviceToDevice}) {
      const int64_t bytes = m.TransferBytes(d);
      if (bytes > 0 || d != Direction::kDeviceToDevice) {
        cell += " " + std::string(recorder::DirectionAbbreviation(d)) + "=" + HumanBytes(bytes);
      }
    }
  }
  return cell;
}

// Why the cell is what it is: the skip reason, the first failure or xfail
// reason, or why there is no ledger; "" for a plain pass.
std::string CellWhy(const CaseResult& r) {
  if (r.verdict == Outcome::kSkipped) return r.skip_reason;
  if (!r.reasons.empty()) return r.reasons[0];
  return r.measured && !r.measured->ledger ? r.measured->ledger_unavailable : "";
}

// Per scenario file, in the order first seen: the strategies and
// environments of its cells (for the terminal matrix).
struct Table {
  std::vector<std::string> strategies, environments;
  std::map<std::pair<std::string, std::string>, CellRef> cells;
};

std::map<std::string, Table> Tables(const std::vector<CaseResult>& cases) {
  std::map<std::string, Table> tables;
  for (const auto& r : cases) {
    Table& t = tables[r.file];
    if (std::find(t.strategies.begin(), t.strategies.end(), r.strategy) == t.strategies.end())
      t.strategies.push_back(r.strategy);
    if (std::find(t.environments.begin(), t.environments.end(), r.environment) == t.environments.end())
      t.environments.push_back(r.environment);
    t.cells[{r.strategy, r.environment}] = &r;
  }
  return tables;
}

// Merged rows grouped by scenario file, files in sorted order.
std::map<std::string, std::vector<const MergedCell*>> RowsByFile(const std::vector<MergedCell>& rows) {
  std::map<std::string, std::vector<const MergedCell*>> files;
  for (const MergedCell& row : rows) files[row.file].push_back(&row);
  return files;
}

int64_t Moved(const verdict::Measured& m) {
  int64_t total = 0;
  for (Direction d : {Direction::kHostToDevice, Direction::kDeviceToHost, Direction::kDeviceToDevice}) {
    total += m.TransferBytes(d);
  }
  return total;
}

int64_t MaxDevicePeak(const verdict::Measured& m) {
  int64_t peak = 0;
  if (!m.ledger) return peak;
  for (const auto& [device, memory] : m.ledger->memory) {
    if (device != "cpu") peak = std::max(peak, memory.peak_bytes);
  }
  return peak;
}

// An inline SVG bar chart of one file's cells, one pair of bars per cell
// and run: bytes moved (blue) and the highest device peak (orange), both
// relative to the checkpoint's size.
std::string Chart(const std::vector<const MergedCell*>& rows, size_t run_count) {
  struct Bar {
    std::string label;
    double moved, peak;
  };
  std::vector<Bar> bars;
  double top = 1.0;
  for (const MergedCell* row : rows) {
    for (size_t k = 0; k < run_count; ++k) {
      const CaseResult* c = row->by_run[k];
      if (!c || !c->measured || !c->measured->outcome.ok() || !c->measured->ledger) continue;
      const double size = static_cast<double>(c->measured->checkpoint_bytes);
      if (size <= 0) continue;
      std::string label = row->strategy + "@" + row->environment;
      if (run_count > 1) label += " [" + std::to_string(k + 1) + "]";
      bars.push_back({label, Moved(*c->measured) / size, MaxDevicePeak(*c->measured) / size});
      top = std::max({top, bars.back().moved, bars.back().peak});
    }
  }
  bool any = false;
  for (const Bar& b : bars) any |= b.moved > 0 || b.peak > 0;
  if (!any) return "";  // nothing moved anywhere: the table says it all
  const int label_w = 300, bar_w = 420, row_h = 26;
  const int height = static_cast<int>(bars.size()) * row_h + 40;
  std::ostringstream svg;
  svg << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + bar_w + 120
      << "\" height=\"" << height << "\" font-size=\"12\" font-family=\"sans-serif\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = static_cast<int>(i) * row_h + 8;
    const int moved_w = static_cast<int>(bar_w * bars[i].moved / top), peak_w = static_cast<int>(bar_w * bars[i].peak / top);
    char text[64];
    std::snprintf(text, sizeof(text), "%.2fx / %.2fx", bars[i].moved, bars[i].peak);
    svg << "<text x=\"0\" y=\"" << y + 14 << "\">" << Escape(bars[i].label) << "</text>"
        << "<rect x=\"" << label_w << "\" y=\"" << y << "\" width=\"" << moved_w
        << "\" height=\"10\" fill=\"#3b78c4\"/>"
        << "<rect x=\"" << label_w << "\" y=\"" << y + 11 << "\" width=\"" << peak_w
        << "\" height=\"10\" fill=\"#e8912d\"/>"
        << "<text x=\"" << label_w + std::max(moved_w, peak_w) + 6 << "\" y=\"" << y + 14 << "\">" << text
        << "</text>";
  }
  const int legend_y = height - 14;
  svg << "<rect x=\"" << label_w << "\" y=\"" << legend_y - 9 << "\" width=\"10\" height=\"10\" fill=\"#3b78c4\"/>"
      << "<text x=\"" << label_w + 14 << "\" y=\"" << legend_y << "\">bytes moved (H2D+D2H+D2D) / checkpoint</text>"
      << "<rect x=\"" << label_w + 260 << "\" y=\"" << legend_y - 9
      << "\" width=\"10\" height=\"10\" fill=\"#e8912d\"/>"
      << "<text x=\"" << label_w + 274 << "\" y=\"" << legend_y << "\">peak device memory / checkpoint</text></svg>";
  return svg.str();
}

// The facts that head a run's column, as (name, value) rows.
std::vector<std::pair<std::string, std::string>> RunFacts(const RunResults& r) {
  const RunInfo& i = r.run;
  std::string gpus = std::to_string(i.physical_gpus);
  for (size_t k = 0; k < i.gpu_models.size(); ++k) gpus += (k ? ", " : " (") + i.gpu_models[k];
  if (!i.gpu_models.empty()) gpus += ")";
  std::string torch = i.torch_version.empty() ? "unknown" : i.torch_version;
  if (!i.torch_source.empty()) torch += " (" + i.torch_source + (i.torch_has_cuda ? ", CUDA" : ", CPU-only") + ")";
  std::vector<std::pair<std::string, std::string>> facts = {
      {"summary", Summary(r.cases)},
      {"date", i.date},
      {"host", i.hostname},
      {"GPUs", gpus},
      {"driver", i.driver_version.empty() ? "none" : i.driver_version},
      {"LibTorch", torch},
      {"backend", i.backend},
      {"CUDA Toolkit", i.cuda_toolkit},
      {"harness", i.harness_version + (i.commit.empty() ? "" : " @ " + i.commit)},
      {"command", i.command_line},
      {"repeat", std::to_string(i.repeat)},
      {"source", r.source},
  };
  if (!i.note.empty()) facts.emplace_back("note", i.note);
  return facts;
}

// --- HTML ---------------------------------------------------------------

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:2em;max-width:110em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #bbb;padding:4px 8px;font-size:13px;vertical-align:top;text-align:left}"
    ".PASS,.XFAIL{background:#dfd}.FAIL,.XPASS,.FLAKY{background:#fdd}.SKIPPED{background:#eee;color:#555}"
    ".why{font-size:11px;color:#444;max-width:38em;white-space:pre-wrap}.regression{background:#fcc}"
    ".differs{background:#ffe9a8}.fidelity{background:#dde8ff}.notes li{color:#8a4b00}"
    ".filter{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc}"
    ".filter select{margin-right:1em}.total{font-size:1.2em}.runs td{max-width:36em;overflow-wrap:anywhere}";

// The filter: selects preset from the page's #hash (strategy=..&outcome=..)
// so a filtered view can be linked; rows and files that do not match hide.
constexpr char kFilterScript[] = R"JS(
(function () {
  var keys = ['strategy', 'environment', 'outcome'];
  function value(k) { return document.getElementById('filter-' + k).value; }
  function apply() {
    var shown = 0, total = 0;
    document.querySelectorAll('tr[data-strategy]').forEach(function (row) {
      var ok = (!value('strategy') || row.dataset.strategy === value('strategy')) &&
               (!value('environment') || row.dataset.environment === value('environment')) &&
               (!value('outcome') || (' ' + row.dataset.outcomes + ' ').indexOf(' ' + value('outcome') + ' ') >= 0);
      row.style.display = ok ? '' : 'none';
      total++; if (ok) shown++;
    });
    document.querySelectorAll('section.file').forEach(function (file) {
      var rows = file.querySelectorAll('tr[data-strategy]'), any = false;
      rows.forEach(function (row) { if (row.style.display !== 'none') any = true; });
      file.style.display = any ? '' : 'none';
    });
    document.getElementById('filter-count').textContent = 'showing ' + shown + ' of ' + total + ' cells';
    var hash = keys.filter(function (k) { return value(k); })
                   .map(function (k) { return k + '=' + encodeURIComponent(value(k)); }).join('&');
    try {
      if ('#' + hash !== location.hash) history.replaceState(null, '', hash ? '#' + hash : location.pathname);
    } catch (e) { /* some browsers refuse replaceState on file:// pages */ }
  }
  location.hash.slice(1).split('&').forEach(function (pair) {
    var kv = pair.split('='), select = document.getElementById('filter-' + kv[0]);
    try {
      if (select && kv.length === 2) select.value = decodeURIComponent(kv[1]);
    } catch (e) { /* a malformed address: the filter starts empty */ }
  });
  keys.forEach(function (k) { document.getElementById('filter-' + k).addEventListener('change', apply); });
  apply();
})();
)JS";

std::string Select(const std::string& key, const std::set<std::string>& values) {
  std::string html = "<label>" + key + " <select id=\"filter-" + key + "\"><option value=\"\">all</option>";
  for (const auto& v : values) html += "<option>" + Escape(v) + "</option>";
  return html + "</select></label>";
}

std::string CellHtml(const CaseResult* c) {
  if (!c) return "<td>-</td>";
  const std::string why = CellWhy(*c);
  return "<td class=\"" + verdict::OutcomeName(c->verdict) + "\">" + Escape(CellText(*c)) +
         (why.empty() ? "" : "<div class=\"why\">" + Escape(why) + "</div>") + "</td>";
}

struct Page {
  std::string title;
  std::vector<RunResults> runs;  // one column each
  std::vector<std::string> notes;
  const DiffResult* diff = nullptr;  // runs = {baseline, current}
};

// What changed in a cell: its differences, else the verdicts; and why it
// fails now.
std::vector<std::string> ChangeDescription(const CellChange& c) {
  std::vector<std::string> lines;
  for (const auto& d : c.differences) lines.push_back(d.ToString());
  if (c.before && c.after && lines.empty()) {
    lines.push_back("verdict: " + verdict::OutcomeName(c.before->verdict) + " -> " + verdict::OutcomeName(c.after->verdict));
  }
  if (c.after && verdict::IsFailing(c.after->verdict) && !c.after->reasons.empty()) lines.push_back(c.after->reasons[0]);
  return lines;
}

std::string DiffHtml(const DiffResult& diff) {
  std::ostringstream html;
  html << "<h2>Changes against the baseline</h2><p class=\"total\"><b>"
       << (diff.Regressed() ? "REGRESSED" : "no regression") << "</b>: ";
  for (auto kind : {CellChange::Kind::kNewlyFailing, CellChange::Kind::kFixed, CellChange::Kind::kOutcome,
                    CellChange::Kind::kMeasurement, CellChange::Kind::kAdded, CellChange::Kind::kRemoved}) {
    html << diff.Count(kind) << " " << CellChangeName(kind) << ", ";
  }
  html << diff.unchanged << " unchanged</p>";
  if (diff.changes.empty()) return html.str();
  html << "<table class=\"changes\"><tr><th>change</th><th>cell</th><th>baseline</th><th>current</th>"
          "<th>differences</th></tr>";
  for (const CellChange& c : diff.changes) {
    std::string differences;
    for (const auto& line : ChangeDescription(c)) differences += Escape(line) + "<br>";
    html << "<tr" << (c.regression ? " class=\"regression\"" : "") << "><td>" << CellChangeName(c.kind)
         << (c.regression ? " (regression)" : "") << "</td><td>" << Escape(c.id) << "</td>" << CellHtml(c.before)
         << CellHtml(c.after) << "<td>" << differences << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

std::string Html(const Page& page) {
  const std::vector<MergedCell> rows = Merge(page.runs);
  const size_t n = page.runs.size();
  std::ostringstream html;
  html << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" << Escape(page.title) << "</title><style>"
       << kStyle << "</style></head><body><h1>" << Escape(page.title) << "</h1>";
  for (size_t k = 0; k < n; ++k) {
    html << "<p class=\"total\">" << (n > 1 ? "[" + std::to_string(k + 1) + "] " : "") << "<b>"
         << Escape(Summary(page.runs[k].cases)) << "</b> &mdash; " << Escape(page.runs[k].run.Title()) << "</p>";
  }
  // The runs, one column each.
  html << "<h2>Run" << (n > 1 ? "s" : "") << "</h2><table class=\"runs\"><tr><th></th>";
  for (size_t k = 0; k < n; ++k) {
    html << "<th>" << (n > 1 ? "[" + std::to_string(k + 1) + "] " : "") << Escape(page.runs[k].run.Title()) << "</th>";
  }
  html << "</tr>";
  const size_t fact_count = RunFacts(page.runs.front()).size();
  for (size_t f = 0; f < fact_count; ++f) {
    html << "<tr><th>" << Escape(RunFacts(page.runs.front())[f].first) << "</th>";
    for (const RunResults& r : page.runs) {
      const auto facts = RunFacts(r);
      html << "<td>" << (f < facts.size() ? Escape(facts[f].second) : "") << "</td>";
    }
    html << "</tr>";
  }
  html << "</table>";
  if (!page.notes.empty()) {
    html << "<h2>Not comparable</h2><ul class=\"notes\">";
    for (const auto& note : page.notes) html << "<li>" << Escape(note) << "</li>";
    html << "</ul>";
  }
  if (page.diff) html << DiffHtml(*page.diff);
  // Failures first, with every reason.
  html << "<h2>Failures</h2>";
  bool any_failure = false;
  for (size_t k = 0; k < n; ++k) {
    for (const CaseResult& c : page.runs[k].cases) {
      if (!verdict::IsFailing(c.verdict)) continue;
      if (!any_failure) html << "<table class=\"failures\"><tr><th>run</th><th>cell</th><th>verdict</th><th>why</th></tr>";
      any_failure = true;
      std::string reasons;
      for (const auto& r : c.reasons) reasons += Escape(r) + "<br>";
      html << "<tr><td>" << k + 1 << "</td><td>" << Escape(c.id) << "</td><td class=\"" << verdict::OutcomeName(c.verdict)
           << "\">" << verdict::OutcomeName(c.verdict) << "</td><td class=\"why\">" << reasons << "</td></tr>";
    }
  }
  html << (any_failure ? "</table>" : "<p>No failures.</p>");
  // Per file: pass / fail / skip in each run.
  const auto files = RowsByFile(rows);
  html << "<h2>Files</h2><table class=\"files\"><tr><th>file</th>";
  for (size_t k = 0; k < n; ++k) html << "<th>" << (n > 1 ? "[" + std::to_string(k + 1) + "] " : "") << "pass / fail / skip</th>";
  html << "</tr>";
  for (const auto& [file, file_rows] : files) {
    html << "<tr><td><a href=\"#" << Escape(file) << "\">" << Escape(file) << "</a></td>";
    for (size_t k = 0; k < n; ++k) {
      int pass = 0, fail = 0, skip = 0;
      for (const MergedCell* row : file_rows) {
        if (const CaseResult* c = row->by_run[k]) {
          (verdict::IsFailing(c->verdict) ? fail : c->verdict == Outcome::kSkipped ? skip : pass)++;
        }
      }
      html << "<td class=\"" << (fail ? "FAIL" : pass ? "PASS" : "SKIPPED") << "\">" << pass << " / " << fail << " / "
           << skip << "</td>";
    }
    html << "</tr>";
  }
  html << "</table>";
  // The filter, then one section per file.
  std::set<std::string> strategies, environments, outcomes;
  for (const MergedCell& row : rows) {
    strategies.insert(row.strategy);
    environments.insert(row.environment);
    for (const CaseResult* c : row.by_run) {
      if (c) outcomes.insert(verdict::OutcomeName(c->verdict));
    }
  }
  html << "<div class=\"filter\">" << Select("strategy", strategies) << Select("environment", environments)
       << Select("outcome", outcomes) << "<span id=\"filter-count\"></span></div>";
  for (const auto& [file, file_rows] : files) {
    html << "<section class=\"file\" id=\"" << Escape(file) << "\"><h2>" << Escape(file)
         << "</h2><table><tr><th>strategy</th><th>environment</th>";
    for (size_t k = 0; k < n; ++k) {
      html << "<th>" << (n > 1 ? "[" + std::to_string(k + 1) + "] " : "") << Escape(page.runs[k].run.Title()) << "</th>";
    }
    if (n > 1) html << "<th>differences</th>";
    html << "</tr>";
    for (const MergedCell* row : file_rows) {
      std::string verdicts;
      for (const CaseResult* c : row->by_run) {
        if (c) verdicts += (verdicts.empty() ? "" : " ") + verdict::OutcomeName(c->verdict);
      }
      html << "<tr data-strategy=\"" << Escape(row->strategy) << "\" data-environment=\"" << Escape(row->environment)
           << "\" data-outcomes=\"" << verdicts << "\"><th>" << Escape(row->strategy) << "</th><td>"
           << Escape(row->environment) << "</td>";
      for (const CaseResult* c : row->by_run) html << CellHtml(c);
      if (n > 1) {
        const char* cls = !row->differences.empty() ? " class=\"differs\"" : row->fidelity ? " class=\"fidelity\"" : "";
        html << "<td" << cls << ">" << (row->fidelity ? "<b>fidelity</b> (virtual vs real)<br>" : "");
        for (const auto& d : row->differences) html << Escape(d) << "<br>";
        html << "</td>";
      }
      html << "</tr>";
    }
    html << "</table>" << Chart(file_rows, n) << "</section>";
  }
  html << "<script>" << kFilterScript << "</script></body></html>\n";
  return html.str();
}

// --- JUnit --------------------------------------------------------------

std::string JunitSuite(const RunResults& run, const std::string& name) {
  std::ostringstream junit;
  int failures = 0, skipped = 0;
  for (const auto& r : run.cases) {
    failures += verdict::IsFailing(r.verdict);
    skipped += r.verdict == Outcome::kSkipped;
  }
  junit << "<testsuite name=\"" << Escape(name) << "\" tests=\"" << run.cases.size() << "\" failures=\"" << failures
        << "\" skipped=\"" << skipped << "\">\n  <properties>";
  for (const auto& [fact, value] : RunFacts(run)) {
    junit << "<property name=\"run." << Escape(fact) << "\" value=\"" << Escape(value) << "\"/>";
  }
  junit << "</properties>\n";
  for (const auto& r : run.cases) {
    std::string reasons;
    for (const auto& x : r.reasons) reasons += x + "\n";
    junit << "  <testcase classname=\"" << Escape(r.file) << "\" name=\"" << Escape(r.id) << "\" time=\""
          << r.wall_seconds << "\">";
    junit << "\n    <properties><property name=\"backend\" value=\"" << Escape(run.run.backend) << "\"/>";
    for (const auto& [property, value] : CaseProperties(r)) {
      junit << "<property name=\"" << Escape(property) << "\" value=\"" << Escape(value) << "\"/>";
    }
    junit << "</properties>\n    ";
    if (r.verdict == Outcome::kSkipped) junit << "<skipped message=\"" << Escape(r.skip_reason) << "\"/>";
    if (verdict::IsFailing(r.verdict)) {
      const bool ledger = r.measured && r.measured->ledger;
      junit << "<failure message=\"" << Escape(r.reasons.empty() ? "" : r.reasons[0]) << "\">"
            << Escape(reasons + (ledger ? DumpJson(*r.measured->ledger) : std::string())) << "</failure>";
      // What the loader printed, for the failure's story (the end of it).
      const std::string output = r.worker_output + r.command_output;
      constexpr size_t kOutputKept = 64 << 10;
      junit << "<system-out>"
            << Escape(output.size() > kOutputKept ? output.substr(output.size() - kOutputKept) : output)
            << "</system-out>";
    }
    junit << "</testcase>\n";
  }
  junit << "</testsuite>\n";
  return junit.str();
}

constexpr char kXmlDeclaration[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// --- Markdown -----------------------------------------------------------

// Text for a Markdown table cell or list item: one line, and nothing that
// Markdown or the HTML around it reads as structure (pipes, backticks,
// tags: a reason quoting "</details>" must not close a summary's block).
std::string MdCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '|':
        out += "\\|";
        break;
      case '`':
        out += "\\`";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A case id as code; ids may hold any character a file name may.
std::string MdId(std::string_view id) { return "`" + MdCell(id) + "`"; }

std::string RunFactsMarkdown(const std::vector<RunResults>& runs) {
  std::ostringstream md;
  md << "| |";
  for (size_t k = 0; k < runs.size(); ++k) md << " [" << k + 1 << "] " << MdCell(runs[k].run.Title()) << " |";
  md << "\n|---|";
  for (size_t k = 0; k < runs.size(); ++k) md << "---|";
  md << "\n";
  const auto first = RunFacts(runs.front());
  for (size_t f = 0; f < first.size(); ++f) {
    md << "| " << first[f].first << " |";
    for (const RunResults& r : runs) {
      const auto facts = RunFacts(r);
      md << " " << (f < facts.size() ? MdCell(facts[f].second) : "") << " |";
    }
    md << "\n";
  }
  return md.str() + "\n";
}

std::string FailuresMarkdown(const std::vector<RunResults>& runs) {
  std::ostringstream md;
  for (size_t k = 0; k < runs.size(); ++k) {
    for (const CaseResult& c : runs[k].cases) {
      if (!verdict::IsFailing(c.verdict)) continue;
      md << "- " << (runs.size() > 1 ? "[" + std::to_string(k + 1) + "] " : "") << MdId(c.id) << " "
         << verdict::OutcomeName(c.verdict) << ": " << MdCell(c.reasons.empty() ? "" : c.reasons[0]) << "\n";
    }
  }
  const std::string list = md.str();
  return list.empty() ? "" : "## Failures\n\n" + list + "\n";
}

std::string RunMarkdown(const RunResults& run) {
  std::ostringstream md;
  md << "# Checkpoint loading replay\n\n**" << Summary(run.cases) << "**\n\n" << RunFactsMarkdown({run})
     << FailuresMarkdown({run});
  for (const auto& [file, t] : Tables(run.cases)) {
    md << "## " << MdCell(file) << "\n\n| strategy |";
    for (const auto& e : t.environments) md << " " << MdCell(e) << " |";
    md << "\n|---|";
    for (size_t i = 0; i < t.environments.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& s : t.strategies) {
      md << "| " << MdCell(s) << " |";
      for (const auto& e : t.environments) {
        auto it = t.cells.find({s, e});
        md << " " << (it == t.cells.end() ? "-" : MdCell(CellText(*it->second))) << " |";
      }
      md << "\n";
    }
    md << "\n";
  }
  return md.str();
}

std::string MergedMarkdown(const std::vector<RunResults>& runs, const std::vector<MergedCell>& rows,
                           const std::vector<std::string>& notes) {
  std::ostringstream md;
  md << "# Checkpoint loading replay: " << runs.size() << " runs merged\n\n" << RunFactsMarkdown(runs);
  if (!notes.empty()) {
    md << "## Not comparable\n\n";
    for (const auto& note : notes) md << "- " << MdCell(note) << "\n";
    md << "\n";
  }
  md << FailuresMarkdown(runs);
  for (const auto& [file, file_rows] : RowsByFile(rows)) {
    md << "## " << MdCell(file) << "\n\n| strategy | environment |";
    for (size_t k = 0; k < runs.size(); ++k) md << " [" << k + 1 << "] |";
    md << " |\n|---|---|";
    for (size_t k = 0; k < runs.size(); ++k) md << "---|";
    md << "---|\n";
    std::vector<std::string> details;
    for (const MergedCell* row : file_rows) {
      md << "| " << MdCell(row->strategy) << " | " << MdCell(row->environment) << " |";
      for (const CaseResult* c : row->by_run) md << " " << (c ? MdCell(CellText(*c)) : "-") << " |";
      md << " " << (!row->differences.empty() ? "**differs**" : "") << (row->fidelity ? " fidelity" : "") << " |\n";
      for (const auto& d : row->differences) details.push_back(MdId(row->id) + " " + MdCell(d));
    }
    md << "\n";
    for (const auto& d : details) md << "- " << d << "\n";
    if (!details.empty()) md << "\n";
  }
  return md.str();
}

// --- Files --------------------------------------------------------------

Status WriteFiles(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  Status made = MakeDirectories(dir);
  if (!made.ok()) return made;
  // Each file is written beside its place and renamed into it: a run killed
  // while writing leaves the previous file or the new one, never half.
  for (const auto& [name, text] : files) {
    const std::string path = dir + "/" + name, partial = path + ".partial";
    {
      std::ofstream out(partial);
      out << text;
      out.close();
      if (!out.good()) return Status(ErrorClass::kIoError, path + ": cannot be written");
    }
    if (Status renamed = RenameFile(partial, path); !renamed.ok()) return renamed;
  }
  return OkStatus();
}

}  // namespace

CaseResult ToResult(const runner::CaseReport& r) {
  CaseResult c;
  c.id = r.c.id;
  c.file = r.c.file;
  c.strategy = r.c.strategy;
  c.environment = r.c.environment.name;
  c.target = r.c.target;
  c.fixture = r.c.fixture.CanonicalString();
  c.hardware_part = scenario::HardwarePart(r.c);
  c.expected_outcome = ErrorClassName(r.c.expect.outcome);
  c.verdict = r.verdict.outcome;
  c.reasons = r.verdict.reasons;
  c.skip_reason = r.skip_reason;
  if (r.verdict.outcome != Outcome::kSkipped) c.measured = r.measured;
  c.command_output = r.command_output;
  c.worker_output = r.worker_output;
  c.wall_seconds = r.wall_seconds;
  c.repetitions = r.repetitions;
  return c;
}

RunResults ToRunResults(const std::vector<runner::CaseReport>& reports, const RunInfo& run) {
  RunResults results;
  results.run = run;
  for (const auto& r : reports) results.cases.push_back(ToResult(r));
  return results;
}

Status WriteRunReports(const RunResults& run, const std::string& dir) {
  return WriteFiles(dir, {{"report.json", ReportJson(run)},
                          {"junit.xml", kXmlDeclaration + JunitSuite(run, "checkpoint-harness")},
                          {"summary.md", RunMarkdown(run)},
                          {"report.html", Html({"Checkpoint loading replay", {run}, run.warnings})}});
}

Status WriteMergedReports(const std::vector<RunResults>& runs, const std::string& dir,
                          const std::vector<std::string>& unreadable) {
  std::vector<const RunResults*> pointers;
  for (const auto& r : runs) pointers.push_back(&r);
  std::vector<std::string> notes = unreadable;
  for (auto& note : ComparabilityNotes(pointers)) notes.push_back(std::move(note));
  const std::vector<MergedCell> rows = Merge(runs);
  nlohmann::json j = {{"format", kReportFormat}, {"merged", true}, {"runs", nlohmann::json::array()}};
  for (const auto& r : runs) j["runs"].push_back({{"run", r.run}, {"source", r.source}, {"cases", r.cases}});
  j["notes"] = notes;
  j["cells"] = nlohmann::json::array();
  for (const MergedCell& row : rows) {
    j["cells"].push_back({{"id", row.id}, {"differences", row.differences}, {"fidelity", row.fidelity}});
  }
  std::string junit = std::string(kXmlDeclaration) + "<testsuites>\n";
  for (size_t k = 0; k < runs.size(); ++k) {
    junit += JunitSuite(runs[k], "[" + std::to_string(k + 1) + "] " + runs[k].run.Title());
  }
  junit += "</testsuites>\n";
  const std::string title = "Checkpoint loading replay: " + std::to_string(runs.size()) + " runs merged";
  return WriteFiles(dir, {{"report.json", DumpJson(j) + "\n"},
                          {"junit.xml", junit},
                          {"summary.md", MergedMarkdown(runs, rows, notes)},
                          {"report.html", Html({title, runs, notes})}});
}


std::string DiffMarkdown(const RunResults& baseline, const RunResults& current, const DiffResult& diff,
                         const DiffOptions& options) {
  std::ostringstream head;
  head << "## Checkpoint loading: " << (diff.Regressed() ? "REGRESSED" : "no regression") << "\n\n";
  head << "Baseline: " << MdCell(baseline.run.Title()) << (baseline.run.commit.empty() ? "" : " @ " + baseline.run.commit)
       << " (" << Summary(baseline.cases) << "); current: " << MdCell(current.run.Title())
       << (current.run.commit.empty() ? "" : " @ " + current.run.commit) << " (" << Summary(current.cases) << ").\n\n";
  for (auto kind : {CellChange::Kind::kNewlyFailing, CellChange::Kind::kFixed, CellChange::Kind::kOutcome,
                    CellChange::Kind::kMeasurement, CellChange::Kind::kAdded, CellChange::Kind::kRemoved}) {
    head << "| " << CellChangeName(kind) << " ";
  }
  head << "| unchanged |\n|---|---|---|---|---|---|---|\n";
  for (auto kind : {CellChange::Kind::kNewlyFailing, CellChange::Kind::kFixed, CellChange::Kind::kOutcome,
                    CellChange::Kind::kMeasurement, CellChange::Kind::kAdded, CellChange::Kind::kRemoved}) {
    head << "| " << diff.Count(kind) << " ";
  }
  head << "| " << diff.unchanged << " |\n\n";
  // Notes are bounded too: one per unreadable case could be thousands.
  constexpr size_t kNotesShown = 20;
  for (size_t i = 0; i < diff.notes.size() && i < kNotesShown; ++i) head << "> " << MdCell(diff.notes[i]) << "\n";
  if (diff.notes.size() > kNotesShown) {
    head << "> … and " << diff.notes.size() - kNotesShown << " more note(s): see diff.json\n";
  }
  if (!diff.notes.empty()) head << "\n";
  std::string md = head.str();
  if (diff.changes.empty()) return md + "Every cell is as it was.\n";
  md += "| change | cell | baseline | current | differences |\n|---|---|---|---|---|\n";
  // Rows until the limit, keeping room for the line that says what is left.
  constexpr size_t kTailRoom = 200;
  for (size_t i = 0; i < diff.changes.size(); ++i) {
    const CellChange& c = diff.changes[i];
    std::string differences;
    for (const auto& line : ChangeDescription(c)) differences += (differences.empty() ? "" : "; ") + line;
    const std::string row = "| " + std::string(CellChangeName(c.kind)) + (c.regression ? " **(regression)**" : "") +
                            " | " + MdId(c.id) + " | " + (c.before ? MdCell(CellText(*c.before)) : "-") + " | " +
                            (c.after ? MdCell(CellText(*c.after)) : "-") + " | " + MdCell(differences) + " |\n";
    if (md.size() + row.size() + kTailRoom > options.markdown_limit) {
      md += "\n… and " + std::to_string(diff.changes.size() - i) +
            " more change(s), left out to stay under the size limit: see diff.json.\n";
      return md;
    }
    md += row;
  }
  return md;
}

Status WriteDiffReports(const RunResults& baseline, const RunResults& current, const DiffResult& diff,
                        const std::string& dir, const DiffOptions& options) {
  nlohmann::json j = {{"format", kReportFormat},
                      {"baseline", {{"run", baseline.run}, {"source", baseline.source}}},
                      {"current", {{"run", current.run}, {"source", current.source}}},
                      {"regressed", diff.Regressed()},
                      {"notes", diff.notes},
                      {"unchanged", diff.unchanged},
                      {"changes", nlohmann::json::array()}};
  for (const CellChange& c : diff.changes) {
    nlohmann::json change = {{"kind", CellChangeName(c.kind)}, {"id", c.id}, {"file", c.file}, {"regression", c.regression}};
    if (c.before) change["baseline"] = verdict::OutcomeName(c.before->verdict);
    if (c.after) change["current"] = verdict::OutcomeName(c.after->verdict);
    change["differences"] = nlohmann::json::array();
    for (const auto& d : c.differences) {
      change["differences"].push_back({{"field", d.field}, {"baseline", d.before}, {"current", d.after}, {"delta", d.delta}});
    }
    j["changes"].push_back(change);
  }
  RunResults labelled_baseline = baseline, labelled_current = current;
  labelled_baseline.run.label = "baseline: " + baseline.run.Title();
  labelled_current.run.label = "current: " + current.run.Title();
  return WriteFiles(dir, {{"diff.json", DumpJson(j) + "\n"},
                          {"diff.md", DiffMarkdown(baseline, current, diff, options)},
                          {"diff.html", Html({"Checkpoint loading replay: against the baseline",
                                                {labelled_baseline, labelled_current}, diff.notes, &diff})}});
}

std::string Matrix(const std::vector<CaseResult>& cases) {
  std::ostringstream out;
  for (const auto& [file, t] : Tables(cases)) {
    out << file << "\n";
    std::vector<size_t> width(t.environments.size() + 1, 14);
    for (const auto& s : t.strategies) width[0] = std::max(width[0], s.size() + 2);
    for (size_t i = 0; i < t.environments.size(); ++i) {
      width[i + 1] = std::max(width[i + 1], t.environments[i].size() + 2);
      for (const auto& s : t.strategies) {
        auto it = t.cells.find({s, t.environments[i]});
        if (it != t.cells.end()) width[i + 1] = std::max(width[i + 1], CellText(*it->second).size() + 2);
      }
    }
    auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 1, ' '); };
    out << "  " << pad("", width[0]);
    for (size_t i = 0; i < t.environments.size(); ++i) out << pad(t.environments[i], width[i + 1]);
    out << "\n";
    for (const auto& s : t.strategies) {
      out << "  " << pad(s, width[0]);
      for (size_t i = 0; i < t.environments.size(); ++i) {
        auto it = t.cells.find({s, t.environments[i]});
        out << pad(it == t.cells.end() ? "-" : CellText(*it->second), width[i + 1]);
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace harness::report
