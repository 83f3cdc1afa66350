#include "harness/base/status.h"

#include <ostream>

#include "harness/base/name_table.h"

namespace harness {
namespace {

constexpr Named<ErrorClass> kNames[] = {
    {ErrorClass::kOk, "ok"},
    {ErrorClass::kCudaUnavailable, "cuda-unavailable"},
    {ErrorClass::kInvalidDeviceOrdinal, "invalid-device-ordinal"},
    {ErrorClass::kInsufficientDriver, "insufficient-driver"},
    {ErrorClass::kOutOfMemory, "out-of-memory"},
    {ErrorClass::kCorruptCheckpoint, "corrupt-checkpoint"},
    {ErrorClass::kUnsupportedFormat, "unsupported-format"},
    {ErrorClass::kUnsafePickle, "unsafe-pickle"},
    {ErrorClass::kTimeout, "timeout"},
    {ErrorClass::kCrashed, "crashed"},
    {ErrorClass::kLost, "lost"},
    {ErrorClass::kEnvNotRealized, "env-not-realized"},
    {ErrorClass::kInvalidArgument, "invalid-argument"},
    {ErrorClass::kInvalidScenario, "invalid-scenario"},
    {ErrorClass::kIoError, "io-error"},
    {ErrorClass::kInternal, "internal"},
};

}  // namespace

std::string_view ErrorClassName(ErrorClass c) { return NameIn(kNames, c, "internal"); }

std::optional<ErrorClass> ErrorClassFromName(std::string_view name) { return ValueIn(kNames, name); }

std::ostream& operator<<(std::ostream& os, ErrorClass c) { return os << ErrorClassName(c); }

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorClassName(class_)) + ": " + message_;
}

}  // namespace harness
