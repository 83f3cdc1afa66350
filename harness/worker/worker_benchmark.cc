// Per-scenario overhead of a worker: fork from a process that has loaded
// LibTorch (what the harness does) vs fork + exec of a fresh process that
// must load LibTorch again. Not a test; numbers go to the README.
//
//   tools/bazelw cpu run //harness/worker:worker_benchmark
#include <ATen/ops/ones.h>
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness/worker/worker.h"

namespace {

std::string self_path;

// The work every worker does before a scenario: touch LibTorch.
std::string TouchLibTorch() {
  at::Tensor t = at::ones({16});
  return std::to_string(t.sum().item<float>());
}

void BM_ForkWorker(benchmark::State& state) {
  for (auto _ : state) {
    harness::worker::WorkerResult r = harness::worker::RunInWorker(TouchLibTorch, 30);
    if (!r.status.ok()) state.SkipWithError(r.status.ToString().c_str());
  }
}
BENCHMARK(BM_ForkWorker)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_ExecWorker(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(self_path.c_str(), self_path.c_str(), "--exec-child", static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) state.SkipWithError("exec child failed");
  }
}
BENCHMARK(BM_ExecWorker)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--exec-child") == 0) {
    TouchLibTorch();
    return 0;
  }
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  self_path = n > 0 ? std::string(buf, size_t(n)) : argv[0];
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
