// Enum <-> name tables: the one lookup for enums whose table holds nothing
// but names (error classes, checkpoint formats). Tables with more columns
// (cuda_state.h, ledger.cc's directions) look rows up themselves.
//
//   constexpr Named<Format> kFormatNames[] = {{Format::kPickle, "pickle"}, ...};
//   NameIn(kFormatNames, Format::kPickle)   // "pickle"
//   ValueIn(kFormatNames, "pickle")         // Format::kPickle; nullopt if unknown
#ifndef HARNESS_BASE_NAME_TABLE_H_
#define HARNESS_BASE_NAME_TABLE_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace harness {

template <typename Enum>
struct Named {
  Enum value;
  std::string_view name;
};

// The name of `value`, or `unknown` when the table lacks it.
template <typename Enum, size_t N>
constexpr std::string_view NameIn(const Named<Enum> (&table)[N], Enum value, std::string_view unknown = "unknown") {
  for (const Named<Enum>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return unknown;
}

template <typename Enum, size_t N>
constexpr std::optional<Enum> ValueIn(const Named<Enum> (&table)[N], std::string_view name) {
  for (const Named<Enum>& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace harness

#endif  // HARNESS_BASE_NAME_TABLE_H_
