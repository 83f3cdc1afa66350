#include "harness/base/status.h"

#include <gtest/gtest.h>

namespace harness {
namespace {

TEST(ErrorClassName, RoundTripsEveryClass) {
  for (int i = 0; i <= static_cast<int>(ErrorClass::kInternal); ++i) {
    ErrorClass c = static_cast<ErrorClass>(i);
    std::optional<ErrorClass> back = ErrorClassFromName(ErrorClassName(c));
    ASSERT_TRUE(back.has_value()) << ErrorClassName(c);
    EXPECT_EQ(*back, c);
  }
}

TEST(ErrorClassName, UnknownNameIsNullopt) {
  EXPECT_FALSE(ErrorClassFromName("gpu-on-fire").has_value());
}

TEST(Result, CarriesValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Status(ErrorClass::kCorruptCheckpoint, "x.pt: truncated");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().error_class(), ErrorClass::kCorruptCheckpoint);
  EXPECT_EQ(bad.status().ToString(), "corrupt-checkpoint: x.pt: truncated");
}

}  // namespace
}  // namespace harness
