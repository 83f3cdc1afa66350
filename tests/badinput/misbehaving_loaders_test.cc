// Loaders that misbehave, in the harness's process tree (C++ strategies) and
// as commands of their own: they crash, abort, hang, allocate without bound,
// flood their output, print bytes that are no text, leave children behind,
// or close their pipes. Each must end as its class, with its output kept
// short and escaped, reports that parse, no process of it left running, and
// a good case after it unharmed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "fixtures/mapped_checkpoint.h"
#include "harness/base/subprocess.h"
#include "harness/env/environment.h"
#include "harness/report/report.h"
#include "harness/runner/runner.h"
#include "harness/strategy/strategy.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

// In-process loaders: each is a strategy the worker runs.
template <typename Behaviour>
class Misbehaving : public strategy::Strategy {
 public:
  explicit Misbehaving(const char* name) : name_(name) {}
  std::string_view name() const override { return name_; }
  fixtures::LoadedCheckpoint Load(const strategy::LoadRequest&) const override {
    Behaviour{}();
    throw std::logic_error("unreachable");
  }

 private:
  const char* name_;
};

struct Abort {
  void operator()() const { std::abort(); }
};
struct Hang {
  void operator()() const { std::this_thread::sleep_for(std::chrono::hours(1)); }
};
struct Hog {
  void operator()() const {
    std::vector<std::unique_ptr<char[]>> held;
    for (;;) {
      held.emplace_back(new char[64 << 20]);
      for (size_t i = 0; i < (64u << 20); i += 4096) held.back()[i] = 1;  // resident, not just reserved
    }
  }
};
struct Flood {
  void operator()() const {
    const std::string line(1023, 'x');
    for (int i = 0; i < 50 * 1024; ++i) std::printf("%s\n", line.c_str());  // 50 MiB
    throw std::runtime_error("No CUDA GPUs are available");
  }
};
struct Garble {
  void operator()() const {
    std::printf("\xff\xfe\x1b[31m\x01 <tag> & \"quote\" \xc3\x28\n");
    std::fflush(stdout);
    throw std::runtime_error("CUDA out of memory \xff\x1b[0m");
  }
};

// Maps a copy of the checkpoint (fixtures::LoadMapped, what zero_copy does)
// and truncates the copy before the loaded tensors are read: the worker
// meets SIGBUS when it checks them.
class ShrinkingMap : public strategy::Strategy {
 public:
  std::string_view name() const override { return "misbehaving_shrinking_map"; }
  fixtures::LoadedCheckpoint Load(const strategy::LoadRequest& r) const override {
    const std::string copy = std::string(std::getenv("TEST_TMPDIR")) + "/shrinking.pt";
    if (std::system(("cp '" + r.path + "' '" + copy + "'").c_str()) != 0) throw std::runtime_error("cp failed");
    fixtures::LoadedCheckpoint loaded = fixtures::LoadMapped(copy, r.format, c10::Device("cpu"));
    if (truncate(copy.c_str(), 0) != 0) throw std::runtime_error("truncate failed");
    return loaded;
  }
};

const bool registered = [] {
  strategy::RegisterStrategy(std::make_unique<ShrinkingMap>());
  strategy::RegisterStrategy(std::make_unique<Misbehaving<Abort>>("misbehaving_abort"));
  strategy::RegisterStrategy(std::make_unique<Misbehaving<Hang>>("misbehaving_hang"));
  strategy::RegisterStrategy(std::make_unique<Misbehaving<Hog>>("misbehaving_hog"));
  strategy::RegisterStrategy(std::make_unique<Misbehaving<Flood>>("misbehaving_flood"));
  strategy::RegisterStrategy(std::make_unique<Misbehaving<Garble>>("misbehaving_garble"));
  return true;
}();

std::string Tmp() { return std::getenv("TEST_TMPDIR"); }

// A sleep no other process runs, to tell whether a loader's child outlived it.
std::string UniqueSleep() { return "sleep 97." + std::to_string(getpid()); }

bool Running(const std::string& command_line) {
  ChildOptions options;
  options.timeout_seconds = 30;
  const Child pgrep = RunProgram({"/usr/bin/pgrep", "-f", command_line}, {}, options);
  return pgrep.exited && pgrep.exit_code == 0;
}

scenario::Case LoaderCase(const std::string& strategy, const std::string& command = "") {
  scenario::Case c;
  c.id = "misbehaving/" + strategy + "@missing-gpu";
  c.file = "misbehaving.yaml";
  c.fixture.format = fixtures::Format::kPickle;
  c.fixture.total_bytes = 16 << 10;
  c.environment = *env::EnvironmentPreset("missing-gpu");
  c.strategy = strategy;
  c.command = command;
  c.target = "cpu";
  c.timeout_seconds = 5;
  return c;
}

struct Row {
  const char* what;
  scenario::Case c;
  ErrorClass expected;
  const char* says;  // in the outcome's message
};

std::vector<Row> Rows() {
  const std::string python = "/usr/bin/python3";
  return {
      {"aborts", LoaderCase("misbehaving_abort"), ErrorClass::kCrashed, "crashed(SIGABRT)"},
      {"hangs", LoaderCase("misbehaving_hang"), ErrorClass::kTimeout, "worker exceeded 5"},
      {"allocates without bound", LoaderCase("misbehaving_hog"), ErrorClass::kOutOfMemory, "bad_alloc"},
      {"floods its output", LoaderCase("misbehaving_flood"), ErrorClass::kCudaUnavailable, "No CUDA GPUs"},
      {"maps a file that is truncated while loading", LoaderCase("misbehaving_shrinking_map"), ErrorClass::kCrashed,
       "crashed(SIGBUS: a memory-mapped file was truncated"},
      {"command maps a file that is truncated while loading",
       LoaderCase("shrinking_map_command",
                  python + " -c 'import mmap, sys; f = open(sys.argv[1], \"w+b\"); f.write(bytes(1 << 16)); "
                           "f.flush(); m = mmap.mmap(f.fileno(), 0); f.truncate(0); print(m[40000])' " +
                           Tmp() + "/shrinking_command.bin"),
       ErrorClass::kCrashed, "killed by SIGBUS: a memory-mapped file was truncated"},
      {"prints bytes that are no text", LoaderCase("misbehaving_garble"), ErrorClass::kOutOfMemory, "CUDA out of"},
      {"command allocates without bound",
       LoaderCase("hog_command", python + " -c 'b = [bytearray(1 << 26) for _ in range(1 << 20)]'"),
       ErrorClass::kOutOfMemory, "MemoryError"},
      {"command floods its output",
       LoaderCase("flood_command",
                  "yes spam | head -c 50000000; echo '{\"ok\": false, \"error\": \"No CUDA GPUs are available\"}'"),
       ErrorClass::kCudaUnavailable, "No CUDA GPUs"},
      {"command prints bytes that are no text",
       LoaderCase("garble_command", "printf '\\377\\376\\033[31m\\001 <x> &\\n'; "
                                    "echo '{\"ok\": false, \"error\": \"CUDA out of memory\"}'"),
       ErrorClass::kOutOfMemory, "CUDA out of memory"},
      {"command leaves a child holding its pipes",
       LoaderCase("orphan_command",
                  "(" + UniqueSleep() + " &); echo '{\"ok\": false, \"error\": \"No CUDA GPUs are available\"}'"),
       ErrorClass::kCudaUnavailable, "No CUDA GPUs"},
      {"command closes its pipes", LoaderCase("closed_command", "exec >&- 2>&-; sleep 0.2; exit 0"),
       ErrorClass::kLost, "printed no JSON result (exit 0)"},
  };
}

runner::RunOptions Options() {
  runner::RunOptions o;
  o.backend = env::DefaultBackend();
  o.host = env::ProbeHost();
  o.cache_dir = Tmp() + "/fixtures";
  o.worker_memory_bytes = int64_t{1} << 30;  // the hogs stop at 1 GiB
  return o;
}

TEST(MisbehavingLoaders, EachEndsAsItsClassAndTheRunGoesOn) {
  std::vector<runner::CaseReport> reports;
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.what);
    const auto start = std::chrono::steady_clock::now();
    runner::CaseReport r = runner::RunCase(row.c, Options());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.measured.outcome.error_class(), row.expected) << r.measured.outcome.message();
    EXPECT_THAT(r.measured.outcome.message(), HasSubstr(row.says));
    EXPECT_EQ(r.verdict.outcome, verdict::Outcome::kFail);  // each case expected ok
    // Output is kept, but bounded: the worker's last 8 KiB, a command's last 16 MiB.
    EXPECT_LE(r.worker_output.size(), 8u << 10);
    EXPECT_LE(r.command_output.size(), 16u << 20);
    EXPECT_LT(seconds, 60) << "the case took " << seconds << " s";
    reports.push_back(std::move(r));
  }
  EXPECT_FALSE(Running(UniqueSleep())) << "a loader's child outlived its case";
  // A good case after them all is unharmed.
  runner::CaseReport good = runner::RunCase(LoaderCase("map_location"), Options());
  EXPECT_EQ(good.verdict.outcome, verdict::Outcome::kPass) << good.measured.outcome.message();
  reports.push_back(good);

  // The reports parse, whatever the loaders printed.
  const std::string dir = Tmp() + "/reports";
  ASSERT_TRUE(report::WriteRunReports(report::ToRunResults(reports, {}), dir).ok());
  ChildOptions options;
  options.timeout_seconds = 60;
  const Child parse = RunProgram({"/usr/bin/python3", "-c",
                                  "import json, sys, xml.etree.ElementTree as E\n"
                                  "cases = json.load(open(sys.argv[1] + '/report.json'))['cases']\n"
                                  "suite = E.parse(sys.argv[1] + '/junit.xml').getroot()\n"
                                  "print(len(cases), suite.get('failures'))",
                                  dir},
                                 {}, options);
  ASSERT_TRUE(parse.exited) << parse.output;
  EXPECT_EQ(parse.exit_code, 0) << parse.output;
  EXPECT_EQ(parse.output, std::to_string(reports.size()) + " " + std::to_string(reports.size() - 1) + "\n");
}

}  // namespace
}  // namespace harness
