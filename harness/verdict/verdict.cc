#include "harness/verdict/verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

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
  }
  return "FAIL";
}

namespace {

// Why a load that succeeded does not meet `expect`.
std::vector<std::string> CheckSuccessfulLoad(const Expectation& expect, const Measured& m) {
  std::vector<std::string> reasons;
  if (expect.placement) {
    for (const auto& [name, device] : m.placement) {
      if (device != m.target) reasons.push_back("placement: " + name + " on " + device + ", expected " + m.target);
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
