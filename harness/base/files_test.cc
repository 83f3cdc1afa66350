#include "harness/base/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

namespace harness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempDir() { return std::getenv("TEST_TMPDIR"); }

TEST(FilesTest, MakeListAndRemoveATree) {
  const std::string root = TempDir() + "/tree";
  ASSERT_TRUE(MakeDirectories(root + "/a/b").ok());
  ASSERT_TRUE(MakeDirectories(root + "/a/b").ok()) << "existing directories are fine";
  std::ofstream(root + "/a/b/f.txt") << "x";
  std::ofstream(root + "/z.txt") << "y";
  EXPECT_THAT(*ListDirectory(root), ElementsAre("a", "z.txt"));
  EXPECT_TRUE(IsDirectory(root + "/a"));
  EXPECT_TRUE(FileExists(root + "/a/b/f.txt"));
  ASSERT_TRUE(RemoveTree(root).ok());
  EXPECT_FALSE(FileExists(root));
  EXPECT_TRUE(RemoveTree(root).ok()) << "removing what is gone is fine";
}

TEST(FilesTest, ErrorsNameThePath) {
  const std::string file = TempDir() + "/plain";
  std::ofstream(file) << "x";
  Status s = MakeDirectories(file + "/sub");
  EXPECT_EQ(s.error_class(), ErrorClass::kIoError);
  EXPECT_THAT(s.message(), HasSubstr(file));
  EXPECT_EQ(ListDirectory(TempDir() + "/missing").status().error_class(), ErrorClass::kIoError);
  EXPECT_EQ(MakeDirectories(file).error_class(), ErrorClass::kIoError);
}

TEST(FilesTest, TempDirectoriesAreAbsoluteAndNew) {
  Result<std::string> a = MakeTempDirectory("files_test-");
  Result<std::string> b = MakeTempDirectory("files_test-");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0], '/');
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(IsDirectory(*a));
  EXPECT_TRUE(RemoveTree(*a).ok() && RemoveTree(*b).ok());
}

TEST(FilesTest, RemoveTreeDoesNotFollowLinks) {
  const std::string keep = TempDir() + "/keep";
  ASSERT_TRUE(MakeDirectories(keep).ok());
  std::ofstream(keep + "/precious") << "x";
  const std::string tree = TempDir() + "/linked";
  ASSERT_TRUE(MakeDirectories(tree).ok());
  ASSERT_EQ(symlink(keep.c_str(), (tree + "/link").c_str()), 0);
  ASSERT_TRUE(RemoveTree(tree).ok());
  EXPECT_TRUE(FileExists(keep + "/precious"));
}

}  // namespace
}  // namespace harness
