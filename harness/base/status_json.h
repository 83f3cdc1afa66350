// Status as JSON, for reports and the worker protocol:
//   {"class": "invalid-device-ordinal", "message": "..."}
// An unknown class reads back as kInternal, keeping the message.
#ifndef HARNESS_BASE_STATUS_JSON_H_
#define HARNESS_BASE_STATUS_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "harness/base/status.h"

namespace harness {

inline void to_json(nlohmann::json& j, const Status& s) {
  j = {{"class", std::string(ErrorClassName(s.error_class()))}, {"message", s.message()}};
}

inline void from_json(const nlohmann::json& j, Status& s) {
  const std::string name = j.at("class").get<std::string>();
  const std::string message = j.at("message").get<std::string>();
  const std::optional<ErrorClass> c = ErrorClassFromName(name);
  if (!c) {
    s = Status(ErrorClass::kInternal, "unknown error class '" + name + "': " + message);
  } else {
    s = *c == ErrorClass::kOk ? Status() : Status(*c, message);
  }
}

// Serialises `j` for files and pipes: messages and command output may hold
// bytes that are not UTF-8; they are replaced, never fatal.
inline std::string DumpJson(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace harness

#endif  // HARNESS_BASE_STATUS_JSON_H_
