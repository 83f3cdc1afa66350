#include "harness/base/status.h"

#include <gtest/gtest.h>

#include "harness/base/status_json.h"

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

TEST(ErrorClassName, UnknownNameIsNullopt) { EXPECT_FALSE(ErrorClassFromName("gpu-on-fire").has_value()); }

TEST(Result, CarriesValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Status(ErrorClass::kCorruptCheckpoint, "x.pt: truncated");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().error_class(), ErrorClass::kCorruptCheckpoint);
  EXPECT_EQ(bad.status().ToString(), "corrupt-checkpoint: x.pt: truncated");
}

TEST(Result, FromAnOkStatusIsAnInternalError) {
  Result<int> r = OkStatus();
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.status().ok());
  EXPECT_EQ(r.status().error_class(), ErrorClass::kInternal);
}

TEST(StatusError, CarriesTheStatusUnchanged) {
  try {
    ThrowIfError(Status(ErrorClass::kInvalidArgument, "bad map"));
    FAIL() << "no exception";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status().error_class(), ErrorClass::kInvalidArgument);
    EXPECT_STREQ(e.what(), "bad map");
  }
  ThrowIfError(OkStatus());  // no throw
}

TEST(StatusJson, RoundTripsAndReadsUnknownClassesAsInternal) {
  Status s(ErrorClass::kOutOfMemory, "cuda:0 full");
  EXPECT_EQ(nlohmann::json(s).get<Status>().ToString(), s.ToString());
  EXPECT_TRUE(nlohmann::json(OkStatus()).get<Status>().ok());
  Status odd = nlohmann::json{{"class", "gpu-on-fire"}, {"message", "m"}}.get<Status>();
  EXPECT_EQ(odd.error_class(), ErrorClass::kInternal);
  EXPECT_EQ(odd.message(), "unknown error class 'gpu-on-fire': m");
}

TEST(StatusJson, DumpReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(DumpJson(nlohmann::json("a\xff"
                                    "b")),
            "\"a\xef\xbf\xbd"
            "b\"");
}

}  // namespace
}  // namespace harness
