#include "util/files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kc::util {
namespace {

// Failures that may pass on their own (a full disk being cleaned, a busy or
// flaky device) are retriable; the rest (permissions, bad names, read-only
// file systems) need a person and fail at once.
Error IoError(const std::string& what, const std::string& path, int err) {
  bool transient = err == ENOSPC || err == EDQUOT || err == EIO || err == EAGAIN || err == EBUSY ||
                   err == ENFILE || err == EMFILE || err == ENOMEM;
  return Error(transient ? ErrorCode::kUnavailable : ErrorCode::kIo,
               what + " " + path + ": " + std::strerror(err));
}

std::string Parent(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(IoError("cannot open", path, errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Fail(IoError("cannot fsync", path, err));
  return Ok();
}

}  // namespace

Status CreateDirectories(const std::string& path) {
  if (path.empty()) return Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Ok();
    return Fail(ErrorCode::kIo, "not a directory: " + path);
  }
  std::string parent = Parent(path);
  if (parent != path) {
    if (auto s = CreateDirectories(parent); !s) return s;
  }
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Fail(IoError("cannot create directory", path, errno));
  }
  return FsyncPath(parent);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(IoError("cannot write", what, errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string dir = Parent(path);
  if (auto s = CreateDirectories(dir); !s) return s;
  static std::atomic<uint64_t> counter{0};
  // A hidden name in the same directory: the rename stays atomic, and tools
  // that list the directory skip a file a crash may have left half written.
  const std::string tmp = dir + "/." + std::filesystem::path(path).filename().string() + ".tmp." +
                          std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(IoError("cannot create", tmp, errno));
  if (auto s = WriteAll(fd, data, tmp); !s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Fail(IoError("cannot fsync", tmp, err));
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(IoError("cannot close", tmp, err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(IoError("cannot rename onto", path, err));
  }
  return FsyncPath(dir);
}

std::optional<long> AtomicWriteTempPid(std::string_view filename) {
  // ".<name>.tmp.<pid>.<n>": read from the end, the name may hold dots.
  if (!filename.starts_with('.')) return std::nullopt;
  auto digits = [](std::string_view text) {
    return !text.empty() && text.size() <= 18 &&
           text.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const size_t last_dot = filename.rfind('.');
  if (last_dot == std::string_view::npos || !digits(filename.substr(last_dot + 1))) {
    return std::nullopt;
  }
  const std::string_view rest = filename.substr(0, last_dot);
  const size_t pid_dot = rest.rfind('.');
  if (pid_dot == std::string_view::npos) return std::nullopt;
  const std::string_view pid = rest.substr(pid_dot + 1);
  if (!digits(pid) || !rest.substr(0, pid_dot).ends_with(".tmp")) return std::nullopt;
  // A name is left between the leading dot and ".tmp".
  if (pid_dot < 1 + 1 + 4) return std::nullopt;
  return std::stol(std::string(pid));
}

Result<size_t> RemoveStaleTempFiles(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(directory, ec)) return size_t{0};
  size_t removed = 0;
  fs::recursive_directory_iterator it(directory, ec), end;
  if (ec) return Fail(IoError("cannot list", directory, ec.value()));
  for (; it != end; it.increment(ec)) {
    if (ec) return Fail(IoError("cannot list", directory, ec.value()));
    if (!it->is_regular_file(ec)) continue;
    std::optional<long> pid = AtomicWriteTempPid(it->path().filename().string());
    if (!pid) continue;
    // A live writer (this process, or another one, even of another user)
    // may still rename its file.
    if (*pid == ::getpid()) continue;
    if (*pid > 0 && (::kill(static_cast<pid_t>(*pid), 0) == 0 || errno == EPERM)) continue;
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
      return Fail(IoError("cannot remove", it->path().string(), errno));
    }
    ++removed;
  }
  return removed;
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fail(ErrorCode::kNotFound, "no such file: " + path);
    return Fail(IoError("cannot open", path, errno));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Fail(IoError("cannot read", path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace kc::util
