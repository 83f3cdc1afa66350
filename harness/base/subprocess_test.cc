#include "harness/base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace harness {
namespace {

TEST(RunChildTest, BringsBackResultOutputAndExitCode) {
  Child c = RunChild(
      [](int fd) {
        std::printf("to stdout\n");
        std::fflush(stdout);
        std::fprintf(stderr, "to stderr\n");
        WriteAll(fd, "the result");
        return 7;
      },
      {});
  ASSERT_TRUE(c.started);
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.exit_code, 7);
  EXPECT_EQ(c.result, "the result");
  EXPECT_EQ(c.output, "to stdout\nto stderr\n");
}

TEST(RunChildTest, StdoutOnlyLeavesStderrOut) {
  ChildOptions o;
  o.capture = ChildOptions::Capture::kStdout;
  Child c = RunChild(
      [](int) {
        std::printf("kept\n");
        std::fprintf(stderr, "(subprocess_test: this line is expected on stderr)\n");
        return 0;
      },
      o);
  EXPECT_EQ(c.output, "kept\n");
}

TEST(RunChildTest, ReportsTheKillingSignal) {
  Child c = RunChild(
      [](int) {
        raise(SIGSEGV);
        return 0;
      },
      {});
  EXPECT_FALSE(c.exited);
  EXPECT_EQ(c.signal, SIGSEGV);
  EXPECT_EQ(SignalName(c.signal), "SEGV");
}

TEST(RunChildTest, AnEscapingExceptionExitsWithThreeAndSaysWhat) {
  Child c = RunChild([](int) -> int { throw std::runtime_error("boom"); }, {});
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.output, "child: uncaught exception: boom\n");
}

// A long child started on another thread must not hold a short one's pipe
// open: the short one's parent returns as soon as its own child is done.
TEST(RunChildTest, ASiblingDoesNotHoldAnotherChildsPipe) {
  std::thread slow([] { RunChild([](int) { return std::system("sleep 3") == 0 ? 0 : 1; }, {}); });
  usleep(200 * 1000);  // the slow child exists before the quick one forks
  const auto start = std::chrono::steady_clock::now();
  std::thread quick([] {
    for (int i = 0; i < 5; ++i) RunChild([](int fd) { return WriteAll(fd, "x") ? 0 : 1; }, {});
  });
  quick.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  slow.join();
  EXPECT_LT(seconds, 2.0) << "a quick child waited on the slow sibling";
}

TEST(RunChildTest, TimeoutKillsTheWholeGroup) {
  ChildOptions o;
  o.timeout_seconds = 0.5;
  o.own_process_group = true;
  // The grandchild holds the output pipe open; only a group kill ends it.
  Child c = RunChild([](int) { return std::system("sleep 30; echo never") == 0 ? 0 : 1; }, o);
  EXPECT_TRUE(c.timed_out);
  EXPECT_LT(c.wall_seconds, 20);
  EXPECT_EQ(c.output.find("never"), std::string::npos);
}

TEST(RunChildTest, OutputLimitKeepsTheTail) {
  ChildOptions o;
  o.output_limit = 10;
  Child c = RunChild(
      [](int) {
        for (int i = 0; i < 1000; ++i) std::printf("line %d\n", i);
        return 0;
      },
      o);
  EXPECT_EQ(c.output, "\nline 999\n");
}

TEST(RunProgramTest, PassesArgumentsAndEnvironment) {
  ChildOptions o;
  Child c = RunProgram({"/bin/sh", "-c", "echo \"$1 $HARNESS_SUBPROCESS_TEST\"", "sh", "arg"},
                       {{"HARNESS_SUBPROCESS_TEST", "value"}}, o);
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.output, "arg value\n");
}

TEST(RunProgramTest, MissingProgramExits127) {
  Child c = RunProgram({"/nonexistent/program"}, {}, {});
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.exit_code, 127);
}

}  // namespace
}  // namespace harness
