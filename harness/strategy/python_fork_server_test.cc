#include "harness/strategy/python_fork_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "harness/base/status.h"
#include "harness/strategy/external.h"

namespace harness::strategy {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using Words = std::vector<std::string>;

TEST(PlainWordsTest, SplitsWhatShellQuoteWrites) {
  EXPECT_THAT(PlainWords("'/opt/py 3/python' load.py '/tmp/it'\\''s.pt' --to 'cuda:1'"),
              Optional(Words{"/opt/py 3/python", "load.py", "/tmp/it's.pt", "--to", "cuda:1"}));
  EXPECT_THAT(PlainWords("  python3   x.py  "), Optional(Words{"python3", "x.py"}));
  EXPECT_THAT(PlainWords("a=b,c@d%e+f:g"), Optional(Words{"a=b,c@d%e+f:g"}));
}

TEST(PlainWordsTest, RefusesWhatAShellWouldInterpret) {
  for (const char* command : {"python x.py; rm -rf /", "python x.py | tee log", "python $HOME/x.py", "python x.py > o",
                              "X=1 python \"x.py\"", "python 'unterminated", "python *.py", "python `x`", "", "  "}) {
    EXPECT_EQ(PlainWords(command), std::nullopt) << command;
  }
}

// The rest needs the Python that tools/bazelw hands the tests.
class ForkServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* python = std::getenv("HARNESS_PYTHON");
    if (python == nullptr || *python == '\0' ||
        std::system((std::string("'") + python + "' -c 'import torch' 2>/dev/null").c_str()) != 0) {
      return;
    }
    python_ = python;
    Result<std::string> script = FindForkServerScript();
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    Result<std::unique_ptr<PythonForkServer>> started = PythonForkServer::Start(python_, *script, {});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    UsePythonForkServers({});
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "no Python torch in $HARNESS_PYTHON";
    UsePythonForkServers({server_->socket_path()});
  }

  // Writes `body` to a script and returns the command that runs it.
  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
    std::ofstream(path) << body;
    return "'" + python_ + "' '" + path + "'";
  }

  static std::string python_;
  static PythonForkServer* server_;
};
std::string ForkServerTest::python_;
PythonForkServer* ForkServerTest::server_ = nullptr;

// torch is in sys.modules before the script imports it only in a child of
// the server; a fresh interpreter starts without it.
constexpr char kReportsWhereItRuns[] = R"(
import json, os, resource, sys
forked = "torch" in sys.modules
print(json.dumps({"ok": True, "placement": {"forked": str(forked), "x": os.environ.get("X", ""),
                  "cwd": os.getcwd(), "argv": " ".join(sys.argv[1:]),
                  "data_limit": str(resource.getrlimit(resource.RLIMIT_DATA)[0])}}))
)";

TEST_F(ForkServerTest, APlainPythonCommandRunsInAForkedChildAsItWouldAlone) {
  const std::string command = Script("where.py", kReportsWhereItRuns) + " --target 'cuda:1'";
  ExternalResult forked = RunExternalCommand(command, {{"X", "from the cell"}});
  ASSERT_TRUE(forked.outcome.ok()) << forked.outcome.ToString() << forked.raw_output;
  EXPECT_EQ(forked.placement["forked"], "True");
  ExternalResult fresh = RunExternalCommand(command, {{"X", "from the cell"}}, /*fresh_process=*/true);
  ASSERT_TRUE(fresh.outcome.ok()) << fresh.outcome.ToString() << fresh.raw_output;
  EXPECT_EQ(fresh.placement["forked"], "False");
  for (const char* field : {"x", "cwd", "argv", "data_limit"}) {
    EXPECT_EQ(forked.placement[field], fresh.placement[field]) << field;
  }
  EXPECT_EQ(forked.placement["x"], "from the cell");
  EXPECT_EQ(forked.placement["argv"], "--target cuda:1");
}

TEST_F(ForkServerTest, TheWorkersDataLimitReachesTheChild) {
  rlimit saved{};
  getrlimit(RLIMIT_DATA, &saved);
  const rlimit limit{rlim_t{6} << 30, saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_DATA, &limit), 0);
  ExternalResult r = RunExternalCommand(Script("limit.py", kReportsWhereItRuns), {});
  setrlimit(RLIMIT_DATA, &saved);
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.ToString();
  EXPECT_EQ(r.placement["forked"], "True");
  EXPECT_EQ(r.placement["data_limit"], std::to_string(int64_t{6} << 30));
}

TEST_F(ForkServerTest, ExitCodesSignalsAndExceptionsEndTheCellAsTheyWouldAlone) {
  ExternalResult exited = RunExternalCommand(Script("exit.py", "import sys\nprint('bye')\nsys.exit(3)\n"), {});
  EXPECT_EQ(exited.outcome.error_class(), ErrorClass::kLost);
  EXPECT_THAT(exited.outcome.message(), HasSubstr("exit 3"));
  ExternalResult crashed =
      RunExternalCommand(Script("crash.py", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"), {});
  EXPECT_EQ(crashed.outcome.error_class(), ErrorClass::kCrashed);
  EXPECT_THAT(crashed.outcome.message(), HasSubstr("SIGSEGV"));
  ExternalResult raised = RunExternalCommand(Script("raise.py", "raise MemoryError('too big')\n"), {});
  EXPECT_EQ(raised.outcome.error_class(), ErrorClass::kOutOfMemory) << raised.outcome.ToString();
  EXPECT_THAT(raised.raw_output, HasSubstr("MemoryError: too big"));
}

TEST_F(ForkServerTest, ACellThatNeedsAFreshProcessIsRefusedAndRunsThroughTheShell) {
  // LD_PRELOAD is read while a process loads: the server cannot take it.
  ExternalResult r = RunExternalCommand(Script("preload.py", kReportsWhereItRuns), {{"LD_PRELOAD", ""}});
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.ToString() << r.raw_output;
  EXPECT_EQ(r.placement["forked"], "False");
}

TEST_F(ForkServerTest, ACellWhoseCallerDiesIsKilledWithIt) {
  const std::string pid_file = std::string(std::getenv("TEST_TMPDIR")) + "/hung.pid";
  const std::string command =
      Script("hang.py", "import os, time\nopen('" + pid_file + "', 'w').write(str(os.getpid()))\ntime.sleep(600)\n");
  const pid_t caller = fork();
  if (caller == 0) {
    setpgid(0, 0);  // leads its group, as a worker does
    RunExternalCommand(command, {});
    _exit(0);
  }
  int cell = 0;
  for (int i = 0; i < 200 && cell == 0; ++i) {
    usleep(50000);
    std::ifstream(pid_file) >> cell;
  }
  ASSERT_GT(cell, 0) << "the cell never started";
  ASSERT_EQ(kill(cell, 0), 0);
  // The caller's whole group goes, as a worker's does at its timeout.
  kill(-caller, SIGKILL);
  waitpid(caller, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    usleep(50000);
    gone = kill(cell, 0) != 0;
  }
  EXPECT_TRUE(gone) << "the cell outlived its caller";
}

}  // namespace
}  // namespace harness::strategy
