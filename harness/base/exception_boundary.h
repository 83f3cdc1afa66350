// The harness's one exception boundary: the only place where something
// thrown becomes a Status. Strategies and LibTorch throw; everything after
// this boundary passes Status values, and nothing turns a Status back into
// text to classify it again.
//
//   Status s = RunGuarded([&] { loaded = strategy.Load(request); });
//   // "CUDA error: invalid device ordinal" -> kInvalidDeviceOrdinal
//
// Modelled on googletest's HandleExceptionsInMethodIfSupported.
#ifndef HARNESS_BASE_EXCEPTION_BOUNDARY_H_
#define HARNESS_BASE_EXCEPTION_BOUNDARY_H_

#include <functional>
#include <string>

#include "harness/base/status.h"

namespace harness {

// Whose code an exception came from, which decides its class.
enum class Thrower {
  // A loader: a strategy, LibTorch, a checkpoint reader. The message is
  // classified by classify.h; an unknown message gets `unclassified`.
  kLoader,
  // The harness's own code: always kInternal, "harness error: ...".
  kHarness,
};

// Runs `body` and turns whatever it throws into a Status: a StatusError's
// Status unchanged; any other exception classified by its message (LibTorch's
// backtrace cut off, the raw message kept); anything else kInternal.
Status RunGuarded(const std::function<void()>& body, Thrower thrower = Thrower::kLoader,
                  ErrorClass unclassified = ErrorClass::kInternal);

// `what` without the backtrace LibTorch appends to c10::Error messages
// ("\nException raised from ... (most recent call first):...").
std::string WithoutBacktrace(const std::string& what);

}  // namespace harness

#endif  // HARNESS_BASE_EXCEPTION_BOUNDARY_H_
