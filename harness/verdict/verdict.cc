#include "harness/verdict/verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "harness/base/bytes.h"
#include "harness/base/device.h"
#include "harness/base/status_json.h"

namespace harness::verdict {

using recorder::Direction;

std::optional<ByteBound> ByteBound::Parse(const std::string& text) {
  ByteBound b;
  b.text = text;
  std::string s = text;
  if (s.rfind(">=", 0) == 0) {
    b.op = Op::kGe;
    s = s.substr(2);
  } else if (s.rfind("<=", 0) == 0) {
    b.op = Op::kLe;
    s = s.substr(2);
  } else if (s.rfind("~", 0) == 0) {
    b.op = Op::kApprox;
    s = s.substr(1);
  }
  while (!s.empty() && s[0] == ' ') s = s.substr(1);
  if (!s.empty() && s.back() == 'x') {
    b.relative = true;
    s.pop_back();
  }
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  b.value = std::strtod(s.c_str(), &end);
  if (end == nullptr || *end != '\0' || !(b.value >= 0) || !std::isfinite(b.value)) return std::nullopt;
  return b;
}

bool ByteBound::Holds(int64_t bytes, int64_t checkpoint_bytes) const {
  double limit = relative ? value * double(checkpoint_bytes) : value;
  switch (op) {
    case Op::kEq:
      return std::fabs(double(bytes) - limit) < 0.5;
    case Op::kApprox:
      return std::fabs(double(bytes) - limit) <= std::max(0.01 * limit, 65536.0);
    case Op::kGe:
      return double(bytes) + 0.5 >= limit;
    case Op::kLe:
      return double(bytes) - 0.5 <= limit;
  }
  return false;
}

int64_t Measured::TransferBytes(Direction d) const { return ledger ? ledger->transfer(d).bytes : 0; }

int64_t Measured::PeakBytes(const std::string& device) const {
  if (!ledger) return 0;
  auto it = ledger->memory.find(device);
  return it == ledger->memory.end() ? 0 : it->second.peak_bytes;
}

std::string OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kXFail:
      return "XFAIL";
    case Outcome::kXPass:
      return "XPASS";
    case Outcome::kSkipped:
      return "SKIPPED";
    case Outcome::kFlaky:
      return "FLAKY";
  }
  return "FAIL";
}

std::optional<Outcome> OutcomeFromName(std::string_view name) {
  for (Outcome o : {Outcome::kPass, Outcome::kFail, Outcome::kXFail, Outcome::kXPass, Outcome::kSkipped,
                    Outcome::kFlaky}) {
    if (OutcomeName(o) == name) return o;
  }
  return std::nullopt;
}

bool IsFailing(Outcome o) { return o == Outcome::kFail || o == Outcome::kXPass || o == Outcome::kFlaky; }

namespace {

// Why a load that succeeded does not meet `expect`.
std::vector<std::string> CheckSuccessfulLoad(const Expectation& expect, const Measured& m) {
  std::vector<std::string> reasons;
  if (expect.placement) {
    const std::string expected = LandingDevice(m.target);
    for (const auto& [name, device] : m.placement) {
      if (device != expected) reasons.push_back("placement: " + name + " on " + device + ", expected " + expected);
    }
  }
  if (expect.integrity) {
    if (!m.integrity.has_value()) {
      reasons.push_back("integrity: not checked");
    } else if (!m.integrity->ok()) {
      reasons.push_back(m.integrity->message());
    }
  }
  if (!m.ledger) {
    if (!expect.transfers.empty() || !expect.peak.empty()) {
      reasons.push_back("transfers/peak: not measured for this strategy (no ledger" +
                        (m.ledger_unavailable.empty() ? std::string() : ": " + m.ledger_unavailable) + ")");
    }
    return reasons;
  }
  for (const auto& [direction, bound] : expect.transfers) {
    const int64_t bytes = m.TransferBytes(direction);
    if (!bound.Holds(bytes, m.checkpoint_bytes)) {
      reasons.push_back("transfers." + std::string(recorder::DirectionName(direction)) + ": expected " + bound.text +
                        ", measured " + std::to_string(bytes) + " B (checkpoint " + std::to_string(m.checkpoint_bytes) +
                        " B)");
    }
  }
  for (const auto& [device, bound] : expect.peak) {
    if (!m.ledger->Measures("memory." + device)) {
      reasons.push_back("peak." + device + ": not measured by this ledger's sources");
      continue;
    }
    const int64_t bytes = m.PeakBytes(device);
    if (!bound.Holds(bytes, m.checkpoint_bytes)) {
      reasons.push_back("peak." + device + ": expected " + bound.text + ", measured " + std::to_string(bytes) + " B");
    }
  }
  return reasons;
}

}  // namespace

Verdict Judge(const Expectation& expect, const Measured& m) {
  std::vector<std::string> reasons;
  const ErrorClass got = m.outcome.error_class();
  if (got != expect.outcome) {
    reasons.push_back("outcome: expected " + std::string(ErrorClassName(expect.outcome)) + ", got " +
                      std::string(ErrorClassName(got)) +
                      (m.outcome.ok() ? "" : " (" + m.outcome.message().substr(0, 300) + ")"));
  } else if (got == ErrorClass::kOk) {
    reasons = CheckSuccessfulLoad(expect, m);
  }
  Verdict v;
  const bool failed = !reasons.empty();
  if (expect.xfail.has_value()) {
    v.outcome = failed ? Outcome::kXFail : Outcome::kXPass;
    if (!failed) {
      reasons.push_back("expected to fail (" + *expect.xfail + ") but passed");
    } else {
      reasons.insert(reasons.begin(), "xfail: " + *expect.xfail);
    }
  } else {
    v.outcome = failed ? Outcome::kFail : Outcome::kPass;
  }
  v.reasons = std::move(reasons);
  return v;
}

std::string Difference::ToString() const {
  std::string text = field + ": " + before + " -> " + after;
  if (kind == Kind::kBytes || kind == Kind::kPeak) {
    text += " (" + std::string(delta > 0 ? "+" : "-") + HumanBytes(delta > 0 ? delta : -delta) + ")";
  }
  return text;
}

namespace {

// Counts and byte totals that saturate instead of overflowing: a hostile
// report's numbers must not make the comparison undefined.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<int64_t>::max() : sum;
}
int64_t SaturatingMultiply(int64_t a, int64_t b) {
  int64_t product;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<int64_t>::max() : product;
}
// |b - a| for non-negative a and b, which cannot overflow.
int64_t Distance(int64_t a, int64_t b) { return a > b ? a - b : b - a; }

}  // namespace

std::vector<Difference> Compare(const Measured& before, const Measured& after, const Tolerance& tolerance) {
  std::vector<Difference> out;
  const std::string class_before(ErrorClassName(before.outcome.error_class()));
  const std::string class_after(ErrorClassName(after.outcome.error_class()));
  if (class_before != class_after) out.push_back({Difference::Kind::kOutcome, "outcome", class_before, class_after});
  // A failed load's ledger is incidental; a successful one's is the finding.
  if (before.outcome.ok() && after.outcome.ok() && before.ledger.has_value() != after.ledger.has_value()) {
    const auto describe = [](const Measured& m) { return m.ledger ? std::string("recorded") : "none"; };
    out.push_back({Difference::Kind::kLedger, "ledger", describe(before), describe(after)});
  }
  if (!before.ledger || !after.ledger) return out;
  for (recorder::Direction d : recorder::kDirections) {
    const int64_t a = std::max<int64_t>(0, before.TransferBytes(d)), b = std::max<int64_t>(0, after.TransferBytes(d));
    const double fraction = tolerance.bytes_fraction * static_cast<double>(std::max(a, b));
    const int64_t allowed = std::max(
        tolerance.bytes, fraction >= 9.0e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(fraction));
    if (Distance(a, b) > allowed) {
      out.push_back({Difference::Kind::kBytes, std::string(recorder::DirectionName(d)), std::to_string(a),
                     std::to_string(b), b - a});
    }
  }
  int64_t copies = 1;
  for (const recorder::Ledger* l : {&*before.ledger, &*after.ledger}) {
    int64_t n = 0;
    for (const recorder::Transfer& t : l->copies.by_direction) n = SaturatingAdd(n, std::max<int64_t>(0, t.count));
    copies = std::max(copies, n);
  }
  const int64_t peak_allowed = SaturatingMultiply(std::max<int64_t>(0, tolerance.peak_rounding), copies);
  std::set<std::string> devices;
  for (const recorder::Ledger* l : {&*before.ledger, &*after.ledger}) {
    for (const auto& [device, memory] : l->memory) devices.insert(device);
  }
  for (const std::string& device : devices) {
    if (!before.ledger->Measures("memory." + device) || !after.ledger->Measures("memory." + device)) continue;
    const int64_t a = std::max<int64_t>(0, before.PeakBytes(device)), b = std::max<int64_t>(0, after.PeakBytes(device));
    if (Distance(a, b) > peak_allowed) {
      out.push_back({Difference::Kind::kPeak, "peak " + device, std::to_string(a), std::to_string(b), b - a});
    }
  }
  return out;
}

void to_json(nlohmann::json& j, const Measured& m) {
  j = {{"outcome", m.outcome},
       {"target", m.target},
       {"placement", m.placement},
       {"checkpoint_bytes", m.checkpoint_bytes}};
  if (m.integrity) j["integrity"] = *m.integrity;
  if (m.ledger) j["ledger"] = *m.ledger;
  if (!m.ledger_unavailable.empty()) j["ledger_unavailable"] = m.ledger_unavailable;
}

void from_json(const nlohmann::json& j, Measured& m) {
  j.at("outcome").get_to(m.outcome);
  m.target = j.value("target", "");
  m.placement = j.value("placement", std::map<std::string, std::string>{});
  m.checkpoint_bytes = j.value("checkpoint_bytes", int64_t(0));
  if (j.contains("integrity")) m.integrity = j["integrity"].get<Status>();
  if (j.contains("ledger")) m.ledger = j["ledger"].get<recorder::Ledger>();
  m.ledger_unavailable = j.value("ledger_unavailable", "");
}

}  // namespace harness::verdict
