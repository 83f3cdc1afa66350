// A checkpoint file as the harness reads it before any loader does: the
// zip signature, the storages listed from its pickles (LibTorch's zip reader
// and the pickle walker), and the structural check. Any bytes give a result
// or a classified error with a message, never a crash or an exception.
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "fixtures/retag/retag.h"
#include "fixtures/zip_signature.h"
#include "tools/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One in-memory file, rewritten for each input: a path the readers open.
  static const int fd = memfd_create("archive_fuzzer", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  const harness::Status signature = fixtures::CheckZipSignature(path);
  if (!signature.ok()) {
    if (signature.message().empty()) __builtin_trap();
    return 0;
  }
  const harness::Result<std::vector<fixtures::StorageInfo>> storages = fixtures::ListStorages(path);
  if (!storages.ok()) {
    if (storages.status().message().empty() || storages.status().error_class() == harness::ErrorClass::kInternal) {
      __builtin_trap();
    }
    return 0;
  }
  const harness::Status checked = fixtures::CheckStorages(*storages);
  if (!checked.ok() && checked.message().empty()) __builtin_trap();
  return 0;
}
