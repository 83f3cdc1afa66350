// Files and directories, the few operations the harness needs, in one
// place. Not std::filesystem: the PyPI torch wheel's libtorch_cpu.so exports
// its own, older copy of libstdc++'s std::filesystem symbols, which
// interpose on ours in every process that loads it, and directory iteration
// then returns nothing or crashes (measured with torch 2.11.0:
// `nm -D --defined-only libtorch_cpu.so | c++filt | grep std::filesystem`
// lists 142 symbols). POSIX calls are safe on both LibTorch legs.
//
//   Status s = MakeDirectories("reports/run1");
//   Result<std::vector<std::string>> names = ListDirectory("scenarios");
#ifndef HARNESS_BASE_FILES_H_
#define HARNESS_BASE_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "harness/base/status.h"

namespace harness {

// The entry names in `dir` (no "." or ".."), sorted; kIoError when it
// cannot be read.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);

bool IsDirectory(const std::string& path);
bool FileExists(const std::string& path);

// Like `mkdir -p`; kIoError naming the path and the reason.
Status MakeDirectories(const std::string& path);

// Like `rm -rf`, without following symbolic links; removing what does not
// exist is OK.
Status RemoveTree(const std::string& path);

// A new directory "<$TMPDIR or /tmp>/<prefix>XXXXXX", as an absolute path
// with symbolic links resolved.
Result<std::string> MakeTempDirectory(const std::string& prefix);

// The bytes of a regular file, read through one descriptor opened without
// blocking: kIoError when it is missing, no regular file (a FIFO, a
// directory, a device) or unreadable; kInvalidArgument "PATH: the file is
// 2.00 MiB" when it is larger than `max_bytes`, refused before it is read
// (and while reading, for a file that grows).
Result<std::string> ReadRegularFile(const std::string& path, int64_t max_bytes);

// rename(2): `from` replaces `to` atomically on one file system.
Status RenameFile(const std::string& from, const std::string& to);

}  // namespace harness

#endif  // HARNESS_BASE_FILES_H_
