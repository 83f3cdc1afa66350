#include "harness/base/bytes.h"

#include <gtest/gtest.h>

namespace harness {
namespace {

TEST(HumanBytesTest, PicksTheUnitLikeLibTorch) {
  EXPECT_EQ(HumanBytes(800), "800 bytes");
  EXPECT_EQ(HumanBytes(1536), "1.50 KiB");
  EXPECT_EQ(HumanBytes(1 << 20), "1.00 MiB");
  EXPECT_EQ(HumanBytes(int64_t(3) << 30), "3.00 GiB");
}

TEST(ParseByteSizeTest, ReadsScenarioSizes) {
  EXPECT_EQ(ParseByteSize("4096"), 4096);
  EXPECT_EQ(ParseByteSize("100B"), 100);
  EXPECT_EQ(ParseByteSize("64KiB"), 65536);
  EXPECT_EQ(ParseByteSize("1.5MiB"), 1572864);
  EXPECT_EQ(ParseByteSize("2GiB"), int64_t(2) << 30);
  EXPECT_EQ(ParseByteSize("0"), 0);
}

TEST(ParseByteSizeTest, RejectsWhatIsNoSize) {
  for (const char* bad : {"", "KiB", "12XB", "-1KiB", "abc", "1.0y", "1e300GiB", " 1KiB", "nan", "inf"}) {
    EXPECT_EQ(ParseByteSize(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace harness
