// One timed load of a checkpoint to the CPU, for tools/bench/checkpoint_load.py
// (which runs every loader side by side and prints the table):
//
//   load_benchmark generate --format pickle --bytes 1073741824 --out DIR
//       prints the fixture's checkpoint and manifest paths, one per line
//   load_benchmark load --loader read|libtorch|zero_copy --format pickle \
//       --checkpoint CKPT --manifest MANIFEST
//       prints {"seconds": ..., "bytes": ..., "bit_exact": true|false|null}
//
// The timed part is the load plus a touch of every page of every tensor
// (one byte per 4 KiB), so that each loader ends with every byte resident;
// the integrity check against the manifest comes after the clock stops.
//   read       read() of the whole file into fresh memory: the limit
//   libtorch   LibTorch's own reader (fixtures::Load with map_location cpu;
//              for safetensors, the harness's reader)
//   zero_copy  fixtures::LoadMapped: storages alias a map of the file
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fixtures/fixture.h"
#include "fixtures/mapped_checkpoint.h"

namespace {

constexpr size_t kPage = 4096;

// Reads one byte of every page in [data, data + size).
uint64_t TouchPages(const char* data, size_t size) {
  uint64_t sum = 0;
  for (size_t i = 0; i < size; i += kPage) sum += static_cast<unsigned char>(data[i]);
  return sum;
}

uint64_t TouchTensors(const fixtures::NamedTensors& tensors) {
  uint64_t sum = 0;
  for (const auto& [name, t] : tensors) {
    sum += TouchPages(static_cast<const char*>(t.storage().data()), t.storage().nbytes());
  }
  return sum;
}

int Generate(const std::string& format, int64_t bytes, const std::string& out) {
  fixtures::FixtureSpec spec;
  spec.format = *fixtures::FormatFromName(format);
  spec.total_bytes = bytes;
  spec.layers = 16;
  harness::Result<fixtures::Fixture> f = fixtures::Generate(spec, out);
  if (!f.ok()) {
    std::fprintf(stderr, "%s\n", f.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n%s\n", f->checkpoint_path.c_str(), f->manifest_path.c_str());
  return 0;
}

int Load(const std::string& loader, const std::string& format_name, const std::string& checkpoint,
         const std::string& manifest_path) {
  const fixtures::Format format = *fixtures::FormatFromName(format_name);
  nlohmann::json result;
  volatile uint64_t sink = 0;
  const auto start = std::chrono::steady_clock::now();
  std::optional<fixtures::LoadedCheckpoint> loaded;
  if (loader == "read") {
    const int fd = open(checkpoint.c_str(), O_RDONLY | O_CLOEXEC);
    const off_t size = fd < 0 ? 0 : lseek(fd, 0, SEEK_END);
    std::unique_ptr<char[]> buffer(new char[size_t(size)]);
    size_t done = 0;
    while (fd >= 0 && done < size_t(size)) {
      const ssize_t n = pread(fd, buffer.get() + done, size_t(size) - done, off_t(done));
      if (n <= 0) break;
      done += size_t(n);
    }
    if (fd >= 0) close(fd);
    sink = TouchPages(buffer.get(), done);
    result["bytes"] = done;
    result["bit_exact"] = nullptr;  // the file itself
  } else {
    loaded = loader == "zero_copy" ? fixtures::LoadMapped(checkpoint, format, c10::Device("cpu"))
                                   : fixtures::Load(checkpoint, format, c10::Device("cpu"));
    sink = TouchTensors(loaded->Tensors());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)sink;
  result["seconds"] = seconds;
  if (loaded) {
    harness::Result<fixtures::Manifest> manifest = fixtures::ReadManifest(manifest_path);
    result["bytes"] = manifest.ok() ? manifest->storage_bytes : 0;
    result["bit_exact"] = manifest.ok() && fixtures::CheckIntegrity(*manifest, loaded->Tensors()).ok();
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("One timed checkpoint load, for tools/bench/checkpoint_load.py");
  app.require_subcommand(1);
  std::string format = "pickle", out, loader, checkpoint, manifest;
  int64_t bytes = int64_t(1) << 30;
  CLI::App* generate = app.add_subcommand("generate", "make (or reuse) a fixture");
  generate->add_option("--format", format)->required();
  generate->add_option("--bytes", bytes);
  generate->add_option("--out", out)->required();
  CLI::App* load = app.add_subcommand("load", "time one load");
  load->add_option("--loader", loader)->required()->check(CLI::IsMember({"read", "libtorch", "zero_copy"}));
  load->add_option("--format", format)->required();
  load->add_option("--checkpoint", checkpoint)->required();
  load->add_option("--manifest", manifest)->required();
  CLI11_PARSE(app, argc, argv);
  if (!fixtures::FormatFromName(format)) {
    std::fprintf(stderr, "unknown format %s\n", format.c_str());
    return 2;
  }
  if (generate->parsed()) return Generate(format, bytes, out);
  return Load(loader, format, checkpoint, manifest);
}
