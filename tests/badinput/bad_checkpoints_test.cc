// Hostile checkpoints (made at test time by make_bad_checkpoints.py from two
// real fixtures, plus paths that are no regular file) through every entry
// point that takes a checkpoint: `fixtures inspect --check`, `fixtures
// retag`, and a replay through each built-in strategy and an external
// Python one. Every run must end classified: no harness process killed by
// a signal, nothing `internal` or lost, and no code from a checkpoint run
// (the marker file the code-running pickles try to create never exists).
// A loader under test that crashes on a file is a finding, not a harness
// failure: it is counted and kept as `crashed`.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "fixtures/fixture.h"
#include "harness/base/files.h"
#include "harness/base/subprocess.h"
#include "harness/env/environment.h"
#include "harness/runner/runner.h"

namespace harness {
namespace {

constexpr char kFixturesCli[] = "fixtures/fixtures";

std::string Tmp() { return std::getenv("TEST_TMPDIR"); }
std::string Corpus() { return Tmp() + "/bad"; }
std::string Marker() { return Tmp() + "/MARKER_code_from_a_checkpoint_ran"; }

// The corpus: the script's inputs, then paths that are no regular file.
const std::vector<std::string>& Inputs() {
  static const std::vector<std::string> inputs = [] {
    std::vector<std::string> names;
    auto generate = [](fixtures::Format format, const std::string& dir) {
      fixtures::FixtureSpec spec;
      spec.format = format;
      spec.total_bytes = 16 << 10;
      spec.layers = 2;
      Result<fixtures::Fixture> f = fixtures::Generate(spec, Tmp() + "/" + dir);
      if (!f.ok()) std::abort();
      return *f;
    };
    const fixtures::Fixture pickle = generate(fixtures::Format::kPickle, "base_pickle");
    const fixtures::Fixture script = generate(fixtures::Format::kTorchScript, "base_script");
    const fixtures::Fixture safetensors = generate(fixtures::Format::kSafetensors, "base_safetensors");
    ChildOptions options;
    options.capture = ChildOptions::Capture::kStdout;
    options.timeout_seconds = 120;
    const Child made = RunProgram({"/usr/bin/python3", "tests/badinput/make_bad_checkpoints.py",
                                   pickle.checkpoint_path, script.checkpoint_path, safetensors.checkpoint_path,
                                   Corpus(), Marker()},
                                  {}, options);
    if (!made.exited || made.exit_code != 0) {
      std::fprintf(stderr, "make_bad_checkpoints.py failed:\n%s\n", made.output.c_str());
      std::abort();
    }
    std::istringstream lines(made.output);
    for (std::string line; std::getline(lines, line);) names.push_back(line);
    MakeDirectories(Corpus() + "/directory.pt");
    mkfifo((Corpus() + "/fifo.pt").c_str(), 0600);
    symlink("/dev/zero", (Corpus() + "/dev_zero.pt").c_str());
    for (const char* name : {"directory.pt", "fifo.pt", "dev_zero.pt", "missing.pt"}) names.push_back(name);
    // Each input replays as a golden fixture with the pickle fixture's
    // manifest, or the safetensors one's for safetensors_* (the outcome
    // class is what is checked, not the bytes).
    for (const std::string& name : names) {
      const std::string stem = name.substr(0, name.size() - 3);
      std::ifstream in(stem.rfind("safetensors_", 0) == 0 ? safetensors.manifest_path : pickle.manifest_path);
      std::ofstream(Corpus() + "/" + stem + ".manifest.json") << in.rdbuf();
    }
    return names;
  }();
  return inputs;
}

struct Tally {
  int runs = 0, harness_crashes = 0, unclassified = 0, loader_crashes = 0, explained = 0;
};

// What `fixtures inspect --check` must find in the files whose zip and pickle
// are well-formed but whose storages lie.
TEST(BadCheckpoints, InspectCheckFindsStoragesThatLie) {
  Inputs();
  // Damage is corrupt-checkpoint; what the check does not know (another
  // device type, a storage type it has no size for) is unsupported-format.
  constexpr char kCorrupt[] = "corrupt-checkpoint", kUnknown[] = "unsupported-format";
  const struct {
    const char* name;
    const char* error_class;
    const char* finding;
  } kLies[] = {
      {"handmade_valid.pt", "", ""},
      {"record_shorter_than_tensor.pt", kCorrupt,
       "record data/0 is 12 bytes, its storage needs 7724 (1931 x FloatStorage)"},
      {"storage_larger_than_record.pt", kCorrupt,
       "record data/0 is 16 bytes, its storage needs 4096 (1024 x FloatStorage)"},
      {"storage_2pow60_elements.pt", kCorrupt, "record data/0: storage of 1152921504606846976 elements is impossible"},
      {"unknown_storage_dtype.pt", kUnknown, "record data/0: unknown storage type 'Float128Storage'"},
      {"device_tpu.pt", kUnknown, "record data/0: location: invalid device 'tpu:0'"},
      {"device_empty.pt", kCorrupt, "record data/0: location: invalid device ''"},
      {"device_minus_one.pt", kCorrupt, "record data/0: location: invalid device 'cuda:-1'"},
  };
  for (const auto& [name, error_class, finding] : kLies) {
    ChildOptions options;
    options.timeout_seconds = 60;
    const Child c = RunProgram({kFixturesCli, "inspect", "--check", Corpus() + "/" + name}, {}, options);
    if (*finding == 0) {
      EXPECT_EQ(c.exit_code, 0) << c.output;
      EXPECT_NE(c.output.find("check: ok"), std::string::npos) << c.output;
    } else {
      EXPECT_EQ(c.exit_code, 1) << c.output;
      EXPECT_NE(c.output.find(std::string(error_class) + ": " + Corpus() + "/" + name + ": " + finding),
                std::string::npos)
          << c.output;
    }
  }
}

TEST(BadCheckpoints, InspectCheckAndRetagClassifyEveryInput) {
  Tally tally;
  for (const std::string& name : Inputs()) {
    const std::string path = Corpus() + "/" + name;
    ChildOptions options;
    options.timeout_seconds = 60;
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{kFixturesCli, "inspect", "--check", path},
          std::vector<std::string>{kFixturesCli, "retag", "--map", "cpu=cuda:0", path, Tmp() + "/retagged.pt"}}) {
      const Child c = RunProgram(argv, {}, options);
      ++tally.runs;
      tally.harness_crashes += !c.exited;
      EXPECT_TRUE(c.exited) << argv[1] << " " << name << ": " << (c.timed_out ? "hung" : SignalName(c.signal));
      if (c.exit_code == 0) continue;
      EXPECT_EQ(c.exit_code, 1) << c.output;
      const bool internal = c.output.find("fixtures: internal") != std::string::npos;
      tally.unclassified += internal;
      EXPECT_FALSE(internal) << argv[1] << " " << name << ": " << c.output;
      EXPECT_NE(c.output.find(name), std::string::npos) << argv[1] << " does not name the file: " << c.output;
    }
  }
  std::printf("fixtures CLI: %zu inputs, %d runs, %d harness crashes, %d unclassified\n", Inputs().size(), tally.runs,
              tally.harness_crashes, tally.unclassified);
}

TEST(BadCheckpoints, EveryStrategyEndsClassifiedAndNoCheckpointCodeRuns) {
  setenv("HARNESS_GOLDEN_DIR", Corpus().c_str(), 1);
  runner::RunOptions options;
  options.backend = env::DefaultBackend();  // virtual on the CPU leg; real (no GPU: hidden) on the CUDA leg
  options.host = env::ProbeHost("harness/cli/replay");
  options.cache_dir = Tmp() + "/cache";
  options.worker_memory_bytes = runner::DefaultWorkerMemoryLimit(options.host);
  const std::map<std::string, std::string> kStrategies = {
      {"cpu_then_to", ""},
      {"load_then_to", ""},
      {"map_location", ""},
      {"remap", ""},
      {"state_dict", ""},
      {"zero_copy", ""},
      {"py_map_location",
       "{python} tools/strategies/torch_load.py --mode map_location --checkpoint {checkpoint} --format {format} "
       "--target {target}"},
      {"py_load_file",
       "{python} tools/strategies/safetensors_load.py --api load_file --checkpoint {checkpoint} --format {format} "
       "--target {target}"},
  };
  Tally tally;
  std::map<std::string, int> by_class;
  for (const std::string& name : Inputs()) {
    const bool safetensors = name.rfind("safetensors_", 0) == 0;
    for (const auto& [strategy, command] : kStrategies) {
      // Each Python command gets the inputs of its own format (a process
      // start each; the other format is a one-line refusal).
      if ((strategy == "py_load_file") != safetensors && strategy.rfind("py_", 0) == 0) continue;
      scenario::Case c;
      c.fixture.golden = name.substr(0, name.size() - 3);
      c.id = "badinput/" + c.fixture.golden + "/" + strategy;
      c.strategy = strategy;
      c.command = command;
      c.environment = *env::EnvironmentPreset("missing-gpu");
      c.target = "cpu";
      c.timeout_seconds = 60;
      const runner::CaseReport r = runner::RunCase(c, options);
      if (r.verdict.outcome == verdict::Outcome::kSkipped) {  // e.g. no Python torch here
        std::printf("skipped: %s: %s\n", c.id.c_str(), r.skip_reason.c_str());
        continue;
      }
      ++tally.runs;
      const ErrorClass got = r.measured.outcome.error_class();
      ++by_class[std::string(ErrorClassName(got))];
      tally.loader_crashes += got == ErrorClass::kCrashed;
      // A failure no classifier rule knew took the class of the archive
      // check's finding (runner.cc, ExplainFailure): counted apart.
      const bool explained = got != ErrorClass::kCrashed &&
                             r.measured.outcome.message().find("; archive check: ") != std::string::npos;
      tally.explained += explained;
      const bool unclassified = got == ErrorClass::kInternal || got == ErrorClass::kLost;
      tally.unclassified += unclassified;
      EXPECT_FALSE(unclassified) << c.id << ": " << r.measured.outcome.ToString() << "\n" << r.worker_output;
      if (got == ErrorClass::kCrashed) {
        std::printf("loader crash: %s: %s\n", c.id.c_str(), r.measured.outcome.message().c_str());
        EXPECT_NE(r.measured.outcome.message().find("; archive check: "), std::string::npos) << c.id;
      }
      if (c.fixture.golden == "handmade_valid" || c.fixture.golden == "safetensors_valid") {
        // The control loads with every strategy that reads its format
        // (remap rewrites zip archives only).
        if (!(safetensors && strategy == "remap")) {
          EXPECT_TRUE(r.measured.outcome.ok()) << c.id << ": " << r.measured.outcome.ToString();
        }
      }
    }
  }
  const bool code_ran = FileExists(Marker());
  EXPECT_FALSE(code_ran) << "a checkpoint's code created " << Marker();
  // The harness here is this test process (RunCase and the workers it
  // forks): reaching this line means it did not crash.
  std::printf(
      "%zu inputs, %d runs, %d harness crashes, %d unclassified, %d code executions (%d loader crashes; %d "
      "classified by the archive check)\n",
      Inputs().size(), tally.runs, tally.harness_crashes, tally.unclassified, code_ran ? 1 : 0, tally.loader_crashes,
      tally.explained);
  for (const auto& [name, count] : by_class) std::printf("  %-22s %d\n", name.c_str(), count);
}

}  // namespace
}  // namespace harness
