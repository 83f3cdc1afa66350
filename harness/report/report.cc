#include "harness/report/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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

// The HTML cell's tooltip: why it failed, or why it has no ledger.
std::string CellNote(const runner::CaseReport& r) {
  if (!r.verdict.reasons.empty()) return r.verdict.reasons[0];
  return r.measured.ledger ? "" : r.measured.ledger_unavailable;
}

std::string Cell(const runner::CaseReport& r) {
  std::string cell = verdict::OutcomeName(r.verdict.outcome);
  if (r.verdict.outcome == Outcome::kSkipped) return cell;
  cell += " " + std::string(ErrorClassName(r.measured.outcome.error_class()));
  if (r.measured.outcome.ok() && !r.measured.ledger) {
    cell += " (no ledger)";
  } else if (r.measured.outcome.ok()) {
    for (Direction d : {Direction::kHostToDevice, Direction::kDeviceToHost, Direction::kDeviceToDevice}) {
      const int64_t bytes = r.measured.TransferBytes(d);
      if (bytes > 0 || d != Direction::kDeviceToDevice) {
        cell += " " + std::string(recorder::DirectionAbbreviation(d)) + "=" + HumanBytes(bytes);
      }
    }
  }
  return cell;
}

// file -> (strategy order, env order, cells)
struct Table {
  std::vector<std::string> strategies, environments;
  std::map<std::pair<std::string, std::string>, const runner::CaseReport*> cells;
};

std::map<std::string, Table> Tables(const std::vector<runner::CaseReport>& reports) {
  std::map<std::string, Table> tables;
  for (const auto& r : reports) {
    Table& t = tables[r.c.file];
    if (std::find(t.strategies.begin(), t.strategies.end(), r.c.strategy) == t.strategies.end())
      t.strategies.push_back(r.c.strategy);
    if (std::find(t.environments.begin(), t.environments.end(), r.c.environment.name) == t.environments.end())
      t.environments.push_back(r.c.environment.name);
    t.cells[{r.c.strategy, r.c.environment.name}] = &r;
  }
  return tables;
}

int64_t Moved(const runner::CaseReport& r) {
  int64_t total = 0;
  for (Direction d : {Direction::kHostToDevice, Direction::kDeviceToHost, Direction::kDeviceToDevice}) {
    total += r.measured.TransferBytes(d);
  }
  return total;
}

int64_t MaxDevicePeak(const runner::CaseReport& r) {
  int64_t peak = 0;
  if (!r.measured.ledger) return peak;
  for (const auto& [device, memory] : r.measured.ledger->memory) {
    if (device != "cpu") peak = std::max(peak, memory.peak_bytes);
  }
  return peak;
}

// An inline SVG bar chart: per measured cell, bytes moved (blue) and the
// highest device peak (orange), both relative to the checkpoint's size.
std::string Chart(const Table& t) {
  struct Bar {
    std::string label;
    double moved, peak;
  };
  std::vector<Bar> bars;
  double top = 1.0;
  for (const auto& s : t.strategies) {
    for (const auto& e : t.environments) {
      auto it = t.cells.find({s, e});
      if (it == t.cells.end()) continue;
      const runner::CaseReport& r = *it->second;
      if (!r.measured.outcome.ok() || !r.measured.ledger || r.measured.checkpoint_bytes <= 0) continue;
      double size = double(r.measured.checkpoint_bytes);
      bars.push_back({s + "@" + e, Moved(r) / size, MaxDevicePeak(r) / size});
      top = std::max({top, bars.back().moved, bars.back().peak});
    }
  }
  bool any = false;
  for (const Bar& b : bars) any |= b.moved > 0 || b.peak > 0;
  if (!any) return "";  // nothing moved anywhere: the table says it all
  const int label_w = 260, bar_w = 420, row_h = 26;
  const int height = int(bars.size()) * row_h + 40;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + bar_w + 120 << "\" height=\"" << height
      << "\" font-size=\"12\" font-family=\"sans-serif\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    int y = int(i) * row_h + 8;
    int moved_w = int(bar_w * bars[i].moved / top), peak_w = int(bar_w * bars[i].peak / top);
    char text[64];
    std::snprintf(text, sizeof(text), "%.2fx / %.2fx", bars[i].moved, bars[i].peak);
    svg << "<text x=\"0\" y=\"" << y + 14 << "\">" << Escape(bars[i].label) << "</text>"
        << "<rect x=\"" << label_w << "\" y=\"" << y << "\" width=\"" << moved_w
        << "\" height=\"10\" fill=\"#3b78c4\"/>"
        << "<rect x=\"" << label_w << "\" y=\"" << y + 11 << "\" width=\"" << peak_w
        << "\" height=\"10\" fill=\"#e8912d\"/>"
        << "<text x=\"" << label_w + std::max(moved_w, peak_w) + 6 << "\" y=\"" << y + 14 << "\">" << text << "</text>";
  }
  int legend_y = height - 14;
  svg << "<rect x=\"" << label_w << "\" y=\"" << legend_y - 9 << "\" width=\"10\" height=\"10\" fill=\"#3b78c4\"/>"
      << "<text x=\"" << label_w + 14 << "\" y=\"" << legend_y << "\">bytes moved (H2D+D2H+D2D) / checkpoint</text>"
      << "<rect x=\"" << label_w + 260 << "\" y=\"" << legend_y - 9
      << "\" width=\"10\" height=\"10\" fill=\"#e8912d\"/>"
      << "<text x=\"" << label_w + 274 << "\" y=\"" << legend_y << "\">peak device memory / checkpoint</text></svg>";
  return svg.str();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return out.good();
}

}  // namespace

std::string Summary(const std::vector<runner::CaseReport>& reports) {
  std::map<Outcome, int> n;
  for (const auto& r : reports) n[r.verdict.outcome]++;
  // XFAIL counts as passed, XPASS as failed (an unexpected pass is news).
  std::ostringstream s;
  s << n[Outcome::kPass] + n[Outcome::kXFail] << " passed, " << n[Outcome::kFail] + n[Outcome::kXPass] << " failed, "
    << n[Outcome::kSkipped] << " skipped";
  return s.str();
}

std::string Matrix(const std::vector<runner::CaseReport>& reports) {
  std::ostringstream out;
  for (const auto& [file, t] : Tables(reports)) {
    out << file << "\n";
    std::vector<size_t> width(t.environments.size() + 1, 14);
    for (const auto& s : t.strategies) width[0] = std::max(width[0], s.size() + 2);
    for (size_t i = 0; i < t.environments.size(); ++i) {
      width[i + 1] = std::max(width[i + 1], t.environments[i].size() + 2);
      for (const auto& s : t.strategies) {
        auto it = t.cells.find({s, t.environments[i]});
        if (it != t.cells.end()) width[i + 1] = std::max(width[i + 1], Cell(*it->second).size() + 2);
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
        out << pad(it == t.cells.end() ? "-" : Cell(*it->second), width[i + 1]);
      }
      out << "\n";
    }
  }
  return out.str();
}

Status WriteReports(const std::vector<runner::CaseReport>& reports, const std::string& dir) {
  Status made = MakeDirectories(dir);
  if (!made.ok()) return made;
  const std::string json_text = DumpJson(nlohmann::json{{"summary", Summary(reports)}, {"cases", reports}}) + "\n";

  std::ostringstream junit;
  int failures = 0, skipped = 0;
  for (const auto& r : reports) {
    failures += r.verdict.outcome == Outcome::kFail || r.verdict.outcome == Outcome::kXPass;
    skipped += r.verdict.outcome == Outcome::kSkipped;
  }
  junit << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"checkpoint-harness\" tests=\""
        << reports.size() << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\">\n";
  for (const auto& r : reports) {
    std::string reasons;
    for (const auto& x : r.verdict.reasons) reasons += x + "\n";
    junit << "  <testcase classname=\"" << Escape(r.c.file) << "\" name=\"" << Escape(r.c.id) << "\" time=\""
          << r.wall_seconds << "\">";
    junit << "\n    <properties>";
    for (const auto& [name, value] : runner::CaseProperties(r)) {
      junit << "<property name=\"" << Escape(name) << "\" value=\"" << Escape(value) << "\"/>";
    }
    junit << "</properties>\n    ";
    if (r.verdict.outcome == Outcome::kSkipped) junit << "<skipped message=\"" << Escape(r.skip_reason) << "\"/>";
    if (r.verdict.outcome == Outcome::kFail || r.verdict.outcome == Outcome::kXPass) {
      junit << "<failure message=\"" << Escape(r.verdict.reasons.empty() ? "" : r.verdict.reasons[0]) << "\">"
            << Escape(reasons + (r.measured.ledger ? DumpJson(*r.measured.ledger) : std::string())) << "</failure>";
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

  std::ostringstream md, html;
  md << "# Checkpoint loading replay\n\n**" << Summary(reports) << "**\n\n";
  html << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Checkpoint loading replay</title><style>"
          "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
          "td,th{border:1px solid #bbb;padding:4px 8px;font-size:13px}.PASS,.XFAIL{background:#dfd}"
          ".FAIL,.XPASS{background:#fdd}.SKIPPED{background:#eee;color:#666}</style></head><body>"
       << "<h1>Checkpoint loading replay</h1><p><b>" << Escape(Summary(reports)) << "</b></p>";
  for (const auto& [file, t] : Tables(reports)) {
    md << "## " << file << "\n\n| strategy |";
    html << "<h2>" << Escape(file) << "</h2><table><tr><th>strategy</th>";
    for (const auto& e : t.environments) {
      md << " " << e << " |";
      html << "<th>" << Escape(e) << "</th>";
    }
    md << "\n|---|";
    for (size_t i = 0; i < t.environments.size(); ++i) md << "---|";
    md << "\n";
    html << "</tr>";
    for (const auto& s : t.strategies) {
      md << "| " << s << " |";
      html << "<tr><th>" << Escape(s) << "</th>";
      for (const auto& e : t.environments) {
        auto it = t.cells.find({s, e});
        std::string cell = it == t.cells.end() ? "-" : Cell(*it->second);
        std::string cls = it == t.cells.end() ? "" : verdict::OutcomeName(it->second->verdict.outcome);
        md << " " << cell << " |";
        html << "<td class=\"" << cls << "\" title=\"" << Escape(it == t.cells.end() ? "" : CellNote(*it->second))
             << "\">" << Escape(cell) << "</td>";
      }
      md << "\n";
      html << "</tr>";
    }
    md << "\n";
    html << "</table>" << Chart(t);
  }
  html << "</body></html>\n";
  bool ok = WriteFile(dir + "/report.json", json_text) && WriteFile(dir + "/junit.xml", junit.str()) &&
            WriteFile(dir + "/summary.md", md.str()) && WriteFile(dir + "/report.html", html.str());
  return ok ? OkStatus() : Status(ErrorClass::kIoError, dir + ": cannot write reports");
}

}  // namespace harness::report
