// Overhead of the recorder: the same load of a large fixture (1 GiB by
// default; BENCH_FIXTURE_BYTES to change) with and without RunRecorded.
// Not a test; the ratio goes to the README.
//
//   tools/bazelw cpu run -c opt //harness/recorder:recorder_benchmark
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "fixtures/fixture.h"
#include "harness/base/files.h"
#include "harness/recorder/recorder.h"

namespace {

const fixtures::Fixture& BigFixture() {
  static fixtures::Fixture* fixture = [] {
    fixtures::FixtureSpec spec;
    const char* bytes = std::getenv("BENCH_FIXTURE_BYTES");
    spec.total_bytes = bytes ? std::atoll(bytes) : (int64_t(1) << 30);
    spec.layers = 16;
    spec.format = fixtures::Format::kPickle;
    // $HARNESS_CACHE_DIR keeps the 1 GiB fixture between runs; otherwise a
    // fresh directory of this run's own.
    const char* cache = std::getenv("HARNESS_CACHE_DIR");
    harness::Result<std::string> dir =
        cache ? harness::Result<std::string>(std::string(cache)) : harness::MakeTempDirectory("ckpt-harness-bench-");
    if (!dir.ok()) {
      std::fprintf(stderr, "%s\n", dir.status().ToString().c_str());
      std::exit(1);
    }
    auto f = fixtures::Generate(spec, *dir);
    if (!f.ok()) {
      std::fprintf(stderr, "%s\n", f.status().ToString().c_str());
      std::exit(1);
    }
    return new fixtures::Fixture(*f);
  }();
  return *fixture;
}

void Load() {
  fixtures::LoadedCheckpoint c =
      fixtures::Load(BigFixture().checkpoint_path, fixtures::Format::kPickle, c10::Device("cpu"));
  benchmark::DoNotOptimize(c);
}

void BM_LoadPlain(benchmark::State& state) {
  BigFixture();
  for (auto _ : state) Load();
  state.SetBytesProcessed(state.iterations() * BigFixture().manifest.storage_bytes);
}

void BM_LoadRecorded(benchmark::State& state) {
  BigFixture();
  for (auto _ : state) {
    harness::recorder::Ledger ledger;
    harness::Status s = harness::recorder::RunRecorded(Load, &ledger);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetBytesProcessed(state.iterations() * BigFixture().manifest.storage_bytes);
}

// Interleaved, so drift on a noisy machine hits both alike.
BENCHMARK(BM_LoadPlain)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_LoadRecorded)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
