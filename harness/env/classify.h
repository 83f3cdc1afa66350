// Maps error messages from LibTorch (both legs) and the CUDA runtime to the
// error classes that scenario expectations name.
//
//   harness::ErrorClass c = harness::env::ClassifyMessage(e.what());
//
// The table in classify.cc is the whole policy: an ordered list of message
// fragments; the first match wins; no match is kInternal.
#ifndef HARNESS_ENV_CLASSIFY_H_
#define HARNESS_ENV_CLASSIFY_H_

#include <string_view>

#include "harness/base/status.h"

namespace harness::env {

ErrorClass ClassifyMessage(std::string_view message);

}  // namespace harness::env

#endif  // HARNESS_ENV_CLASSIFY_H_
