#include "harness/base/exception_boundary.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace harness {
namespace {

TEST(RunGuardedTest, EveryKindOfThrowBecomesItsStatus) {
  EXPECT_TRUE(RunGuarded([] {}).ok());
  Status loader = RunGuarded([] { throw std::runtime_error("CUDA error: invalid device ordinal"); });
  EXPECT_EQ(loader.error_class(), ErrorClass::kInvalidDeviceOrdinal);
  EXPECT_EQ(loader.message(), "CUDA error: invalid device ordinal");
  Status typed = RunGuarded([] { throw StatusError(Status(ErrorClass::kIoError, "invalid device ordinal")); });
  EXPECT_EQ(typed.error_class(), ErrorClass::kIoError) << "a typed error must not be classified again";
  Status harness = RunGuarded([] { throw std::runtime_error("out of memory"); }, Thrower::kHarness);
  EXPECT_EQ(harness.error_class(), ErrorClass::kInternal);
  EXPECT_EQ(harness.message(), "harness error: out of memory");
  EXPECT_EQ(RunGuarded([] { throw 42; }).error_class(), ErrorClass::kInternal);
}

TEST(RunGuardedTest, UnknownMessagesGetTheCallersFallback) {
  auto odd = [] { throw std::runtime_error("something odd in the archive"); };
  EXPECT_EQ(RunGuarded(odd).error_class(), ErrorClass::kInternal);
  EXPECT_EQ(RunGuarded(odd, Thrower::kLoader, ErrorClass::kCorruptCheckpoint).error_class(),
            ErrorClass::kCorruptCheckpoint);
}

TEST(WithoutBacktraceTest, CutsLibTorchsBacktrace) {
  EXPECT_EQ(WithoutBacktrace("bad\nException raised from f at x.cpp:1 (most recent call first):\nframe #0"), "bad");
  EXPECT_EQ(WithoutBacktrace("no backtrace\nsecond line"), "no backtrace\nsecond line");
}

}  // namespace
}  // namespace harness
