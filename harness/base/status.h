// Error classes, Status and Result<T>: how every stage of the harness reports
// failure. Scenario expectations name an ErrorClass ("invalid-device-ordinal"),
// never message text; the raw message is kept alongside for reports.
//
//   Result<Manifest> m = ReadManifest(path);
//   if (!m.ok()) return m.status();   // e.g. kCorruptCheckpoint, "x.pt: ..."
//
// LibTorch throws; exceptions become a Status at exactly one boundary
// (RunGuarded, exception_boundary.h), using the table in classify.h.
// Code that runs under that boundary and already knows its error class
// throws StatusError, which the boundary passes through unchanged.
#ifndef HARNESS_BASE_STATUS_H_
#define HARNESS_BASE_STATUS_H_

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace harness {

enum class ErrorClass {
  kOk,
  kCudaUnavailable,       // no driver, no device, CUDA hidden, CPU-only build
  kInvalidDeviceOrdinal,  // cuda:K with K >= device count
  kInsufficientDriver,    // driver older than the runtime
  kOutOfMemory,           // device capacity exceeded
  kCorruptCheckpoint,     // truncated zip, bad pickle, missing record
  kUnsupportedFormat,     // a file that is no checkpoint format we know
  kUnsafePickle,          // a pickle that needs globals we refuse to run
  kTimeout,               // worker exceeded its time limit
  kCrashed,               // worker died from a signal
  kLost,                  // worker exited without a result
  kEnvNotRealized,        // the environment could not be made true
  kInvalidArgument,       // bad device string, bad spec, bad flag
  kInvalidScenario,       // malformed scenario file
  kIoError,               // file cannot be read or written
  kInternal,              // anything else: a bug or an unclassified error
};

// "invalid-device-ordinal" etc.; the names used in scenario files.
std::string_view ErrorClassName(ErrorClass c);
// Writes ErrorClassName (test failures print names, not bytes).
std::ostream& operator<<(std::ostream& os, ErrorClass c);
// Inverse of ErrorClassName; nullopt for an unknown name.
std::optional<ErrorClass> ErrorClassFromName(std::string_view name);

// An error class plus a human-readable message; ok() when the class is kOk.
class Status {
 public:
  Status() = default;
  Status(ErrorClass error_class, std::string message) : class_(error_class), message_(std::move(message)) {}

  bool ok() const { return class_ == ErrorClass::kOk; }
  ErrorClass error_class() const { return class_; }
  const std::string& message() const { return message_; }
  // "invalid-device-ordinal: <message>".
  std::string ToString() const;

 private:
  ErrorClass class_ = ErrorClass::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

// An exception that carries a classified Status through code that throws
// (a strategy's Load, LibTorch callbacks) to the exception boundary.
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status) : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Throws StatusError unless `status` is OK.
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}

// A value or a non-ok Status. Accessing value() of an error aborts. A Result
// built from an OK Status (a bug: there is no value) holds kInternal, so
// ok() and status().ok() always agree.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status)                         // NOLINT
      : data_(status.ok() ? Status(ErrorClass::kInternal, "Result built from an OK Status, without a value")
                          : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace harness

#endif  // HARNESS_BASE_STATUS_H_
