#include "harness/base/exception_boundary.h"

#include <exception>

#include "harness/base/classify.h"

namespace harness {

std::string WithoutBacktrace(const std::string& what) {
  const size_t backtrace = what.find("\nException raised from ");
  return backtrace == std::string::npos ? what : what.substr(0, backtrace);
}

Status RunGuarded(const std::function<void()>& body, Thrower thrower, ErrorClass unclassified) {
  try {
    body();
    return OkStatus();
  } catch (const StatusError& e) {
    return e.status();
  } catch (const std::exception& e) {
    const std::string message = WithoutBacktrace(e.what());
    if (thrower == Thrower::kHarness) return Status(ErrorClass::kInternal, "harness error: " + message);
    return Status(ClassifyMessage(message, unclassified), message);
  } catch (...) {
    return Status(ErrorClass::kInternal, "non-standard exception");
  }
}

}  // namespace harness
