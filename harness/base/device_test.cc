#include "harness/base/device.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness {
namespace {

using ::testing::HasSubstr;

TEST(ParseDeviceTest, ReadsCpuCudaAndIndexedCuda) {
  EXPECT_TRUE(ParseDevice("cpu")->is_cpu());
  EXPECT_EQ(ParseDevice("cuda")->index, -1);
  EXPECT_EQ(ParseDevice("cuda:0")->index, 0);
  EXPECT_EQ(ParseDevice("cuda:1023")->index, 1023);
  for (const char* text : {"cpu", "cuda", "cuda:0", "cuda:17"}) {
    EXPECT_EQ(ParseDevice(text)->ToString(), text);
  }
}

TEST(ParseDeviceTest, RejectsMalformedStringsSayingWhy) {
  const std::pair<const char*, const char*> kBad[] = {
      {"", "empty"},
      {"tpu:0", "unsupported device type 'tpu'"},
      {"cpu:0", "cpu takes no device index"},
      {"cuda:", "missing device index"},
      {"cuda:x", "not a non-negative decimal integer"},
      {"cuda:-1", "not a non-negative decimal integer"},
      {"cuda:01", "leading zero"},
      {"cuda:1024", "out of range"},
      {"cuda:99999999999", "out of range"},
  };
  for (const auto& [text, why] : kBad) {
    Result<Device> d = ParseDevice(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.status().error_class(), ErrorClass::kInvalidArgument) << text;
    EXPECT_THAT(d.status().message(), HasSubstr(why)) << text;
    EXPECT_THAT(d.status().message(), HasSubstr("'" + std::string(text) + "'")) << text;
  }
}

TEST(LandingDeviceTest, CudaWithoutIndexIsTheCurrentDeviceZero) {
  EXPECT_EQ(LandingDevice("cuda"), "cuda:0");
  EXPECT_EQ(LandingDevice("cuda:1"), "cuda:1");
  EXPECT_EQ(LandingDevice("cpu"), "cpu");
  EXPECT_EQ(LandingDevice("gpu"), "gpu");  // not a device: left for the caller to report
}

TEST(DeviceNameOfTest, NegativeIsTheHost) {
  EXPECT_EQ(DeviceNameOf(-1), "cpu");
  EXPECT_EQ(DeviceNameOf(3), "cuda:3");
}

}  // namespace
}  // namespace harness
