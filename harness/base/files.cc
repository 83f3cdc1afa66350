#include "harness/base/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "harness/base/bytes.h"

namespace harness {
namespace {

Status IoError(const std::string& path, const std::string& what) {
  return Status(ErrorClass::kIoError, path + ": " + what + " (" + std::strerror(errno) + ")");
}

}  // namespace

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return IoError(dir, "cannot list");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

Status MakeDirectories(const std::string& path) {
  std::string partial;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    partial = path.substr(0, slash);
    if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return IoError(partial, "cannot create");
    }
    start = slash + 1;
  }
  if (!IsDirectory(path)) return Status(ErrorClass::kIoError, path + ": exists and is not a directory");
  return OkStatus();
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? OkStatus() : IoError(path, "cannot remove");
  if (S_ISDIR(st.st_mode)) {
    Result<std::vector<std::string>> names = ListDirectory(path);
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      Status removed = RemoveTree(path + "/" + name);
      if (!removed.ok()) return removed;
    }
    if (rmdir(path.c_str()) != 0) return IoError(path, "cannot remove");
  } else if (unlink(path.c_str()) != 0) {
    return IoError(path, "cannot remove");
  }
  return OkStatus();
}

Result<std::string> MakeTempDirectory(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return IoError(pattern, "cannot create a temporary directory");
  char absolute[PATH_MAX];
  if (realpath(pattern.c_str(), absolute) == nullptr) return IoError(pattern, "cannot resolve");
  return std::string(absolute);
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) return IoError(to, "cannot write");
  return OkStatus();
}

Result<std::string> ReadRegularFile(const std::string& path, int64_t max_bytes) {
  // Opened without blocking and checked through the descriptor: a FIFO or a
  // device is refused, and nothing can be swapped in between.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status(ErrorClass::kIoError, path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat info;
  if (fstat(fd, &info) != 0) return Status(ErrorClass::kIoError, path + ": " + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return Status(ErrorClass::kIoError, path + ": is a directory");
  if (!S_ISREG(info.st_mode)) return Status(ErrorClass::kIoError, path + ": not a regular file");
  const auto too_large = [&](int64_t bytes) {
    return Status(ErrorClass::kInvalidArgument, path + ": the file is " + HumanBytes(bytes));
  };
  if (info.st_size > max_bytes) return too_large(info.st_size);
  // Read at most one byte past the limit: st_size may not tell (a file that grows).
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status(ErrorClass::kIoError, path + ": cannot be read: " + std::strerror(errno));
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
    if (static_cast<int64_t>(text.size()) > max_bytes) return too_large(static_cast<int64_t>(text.size()));
  }
  return text;
}

}  // namespace harness
