// Deliberately misbehaving workers: the parent classifies each and goes on.
#include "harness/worker/worker.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace harness::worker {
namespace {

TEST(RunInWorker, ReturnsThePayload) {
  WorkerResult r = RunInWorker([] { return std::string(100000, 'x'); }, 10);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.payload, std::string(100000, 'x'));
}

TEST(RunInWorker, SegfaultIsCrashedWithTheSignal) {
  WorkerResult r = RunInWorker(
      []() -> std::string {
        raise(SIGSEGV);
        return "";
      },
      10);
  EXPECT_EQ(r.status.error_class(), ErrorClass::kCrashed);
  EXPECT_EQ(r.status.message(), "crashed(SIGSEGV)");
}

TEST(RunInWorker, WhatTheChildPrintsIsKeptNotShown) {
  WorkerResult r = RunInWorker(
      []() -> std::string {
        std::fprintf(stderr, "terminate called after throwing\n");
        std::fflush(stderr);
        abort();
      },
      10);
  EXPECT_EQ(r.status.message(), "crashed(SIGABRT)");
  EXPECT_NE(r.output.find("terminate called after throwing"), std::string::npos) << r.output;
}

TEST(RunInWorker, HangIsTimeout) {
  WorkerResult r = RunInWorker(
      []() -> std::string {
        pause();
        return "";
      },
      0.5);
  EXPECT_EQ(r.status.error_class(), ErrorClass::kTimeout);
}

TEST(RunInWorker, TimeoutAlsoEndsWhatTheWorkerStarted) {
  std::string marker = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") + "/grandchild_" +
                       std::to_string(getpid());
  WorkerResult r = RunInWorker(
      [&]() -> std::string {
        // A grandchild that would write the marker after 2 s.
        std::system(("(sleep 2; touch " + marker + ") &").c_str());
        pause();
        return "";
      },
      0.5);
  EXPECT_EQ(r.status.error_class(), ErrorClass::kTimeout);
  sleep(3);
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "grandchild survived the timeout";
}

TEST(RunInWorker, ExitWithoutResultIsLost) {
  WorkerResult r = RunInWorker([]() -> std::string { _exit(7); }, 10);
  EXPECT_EQ(r.status.error_class(), ErrorClass::kLost);
  EXPECT_NE(r.status.message().find("status 7"), std::string::npos);
}

TEST(RunInWorker, ParentKeepsWorkingAfterFailures) {
  RunInWorker([]() -> std::string { abort(); }, 10);
  WorkerResult r = RunInWorker([] { return std::string("still here"); }, 10);
  EXPECT_EQ(r.payload, "still here");
}

}  // namespace
}  // namespace harness::worker
