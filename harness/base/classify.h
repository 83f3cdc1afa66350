// Maps error messages from LibTorch (both legs) and the CUDA runtime to the
// error classes that scenario expectations name.
//
//   harness::ErrorClass c = harness::ClassifyMessage(e.what());
//
// The table in classify.cc is the whole policy: an ordered list of message
// fragments; the first match wins; no match is `unclassified`.
#ifndef HARNESS_BASE_CLASSIFY_H_
#define HARNESS_BASE_CLASSIFY_H_

#include <string_view>

#include "harness/base/status.h"

namespace harness {

ErrorClass ClassifyMessage(std::string_view message, ErrorClass unclassified = ErrorClass::kInternal);

}  // namespace harness

#endif  // HARNESS_BASE_CLASSIFY_H_
