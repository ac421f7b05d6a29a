#include "base/files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

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

Status CreateDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Ok();
    return Fail(ErrorCode::kIo, "not a directory: " + path);
  }
  std::string parent = Parent(path);
  if (parent != path) {
    if (auto s = CreateDirectories(parent, mode); !s) return s;
  }
  if (::mkdir(path.c_str(), mode) == 0) {
    // The umask may have taken bits the configuration asked for.
    if (::chmod(path.c_str(), mode) != 0) {
      return Fail(IoError("cannot set the mode of directory", path, errno));
    }
  } else if (errno != EEXIST) {
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

namespace {
// 16 hex digits from the kernel's random source.
std::string RandomHex() {
  uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, 0) != static_cast<ssize_t>(sizeof bits)) {
    // Without the random source (an old kernel, a seccomp filter), the time
    // and an address still vary; O_EXCL keeps the write safe regardless.
    bits = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           reinterpret_cast<uintptr_t>(&bits);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, bits >>= 4) out[static_cast<size_t>(i)] = kDigits[bits & 0xf];
  return out;
}

// Chunks are pooled: a batch file takes one and gives it back, so steady
// output neither maps nor faults in fresh memory for every file. A few spare
// chunks are kept, as many as files are usually written at once.
constexpr size_t kSpareChunks = 4;
std::mutex spare_mu;
std::vector<char*>& SpareChunks() {
  static auto* spare = new std::vector<char*>();  // never destroyed: used at exit
  return *spare;
}
}  // namespace

void AtomicFileWriter::FreeChunk::operator()(char* p) const { std::free(p); }

AtomicFileWriter::Chunk AtomicFileWriter::TakeChunk() {
  {
    std::lock_guard lock(spare_mu);
    auto& spare = SpareChunks();
    if (!spare.empty()) {
      char* p = spare.back();
      spare.pop_back();
      return Chunk(p);
    }
  }
  void* p = std::aligned_alloc(kDirectAlignment, kChunkBytes);
  if (p == nullptr) throw std::bad_alloc();
  return Chunk(static_cast<char*>(p));
}

void AtomicFileWriter::GiveBack(Chunk chunk) {
  if (!chunk) return;
  std::lock_guard lock(spare_mu);
  auto& spare = SpareChunks();
  if (spare.size() < kSpareChunks) spare.push_back(chunk.release());
}

Result<AtomicFileWriter> AtomicFileWriter::Open(const std::string& path, Options options) {
  const std::string dir = Parent(path);
  if (auto s = CreateDirectories(dir, options.modes.dir); !s) return Fail(s.error());
  // A hidden name in the same directory: the rename stays atomic, and tools
  // that list the directory skip a file a crash may have left half written.
  // The pid lets a later process remove what a dead one left; the random
  // part makes the name unguessable, and O_EXCL|O_NOFOLLOW refuse whatever
  // someone put there first (a link to a file of ours, say).
  const std::string prefix = dir + "/." + std::filesystem::path(path).filename().string() +
                             ".tmp." + std::to_string(::getpid()) + ".";
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  bool direct = options.direct;
  for (int attempt = 0;; ++attempt) {
    std::string tmp = prefix + RandomHex();
    int fd = ::open(tmp.c_str(), flags | (direct ? O_DIRECT : 0), options.modes.file);
    if (fd < 0 && direct && errno == EINVAL) {
      // The file system does not do O_DIRECT: write through the cache.
      direct = false;
      fd = ::open(tmp.c_str(), flags, options.modes.file);
    }
    // A name taken already: someone else's file; another random name.
    if (fd < 0 && errno == EEXIST && attempt < 3) continue;
    if (fd < 0) return Fail(IoError("cannot create", tmp, errno));
    // The umask may have taken bits the configuration asked for.
    if (::fchmod(fd, options.modes.file) != 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Fail(IoError("cannot set the mode of", tmp, err));
    }
    return AtomicFileWriter(path, std::move(tmp), fd, direct, TakeChunk());
  }
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string tmp, int fd, bool direct,
                                   Chunk chunk)
    : path_(std::move(path)),
      tmp_(std::move(tmp)),
      fd_(fd),
      direct_(direct),
      chunk_(std::move(chunk)) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      fd_(std::exchange(other.fd_, -1)),
      direct_(other.direct_),
      chunk_(std::move(other.chunk_)),
      used_(std::exchange(other.used_, 0)),
      error_(std::move(other.error_)) {}

AtomicFileWriter::~AtomicFileWriter() {
  Abandon();
  GiveBack(std::move(chunk_));
}

void AtomicFileWriter::Abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
  fd_ = -1;
}

void AtomicFileWriter::AppendSlow(std::string_view data) {
  while (true) {
    const size_t n = std::min(data.size(), kChunkBytes - used_);
    std::char_traits<char>::copy(chunk_.get() + used_, data.data(), n);
    used_ += n;
    data.remove_prefix(n);
    if (used_ < kChunkBytes) return;
    // A full chunk: aligned, so it may go out directly.
    if (!error_) {
      if (auto s = WriteOut(chunk_.get(), used_); !s) error_ = s.error();
    }
    used_ = 0;
    if (data.empty()) return;
  }
}

Status AtomicFileWriter::StopDirect() {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
    return Fail(IoError("cannot turn off O_DIRECT on", tmp_, errno));
  }
  direct_ = false;
  return Ok();
}

Status AtomicFileWriter::WriteOut(const char* p, size_t n) {
  while (direct_ && n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w >= 0) {
      p += w;
      n -= static_cast<size_t>(w);
    } else if (errno == EINVAL) {
      // Refused after all (some file systems only say so at the first
      // write), or a short write left the rest unaligned: the rest goes
      // through the cache.
      if (auto s = StopDirect(); !s) return s;
    } else if (errno != EINTR) {
      return Fail(IoError("cannot write", tmp_, errno));
    }
  }
  return WriteAll(fd_, std::string_view(p, n), tmp_);
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return Fail(ErrorCode::kInternal, "commit of a file no longer open: " + tmp_);
  auto fail = [&](Error e) {
    Abandon();
    return Fail(std::move(e));
  };
  if (error_) return fail(*error_);
  if (used_ > 0) {
    const size_t aligned = direct_ ? used_ & ~(kDirectAlignment - 1) : used_;
    if (auto s = WriteOut(chunk_.get(), aligned); !s) return fail(s.error());
    if (aligned < used_) {
      if (direct_) {
        if (auto s = StopDirect(); !s) return fail(s.error());
      }
      if (auto s = WriteOut(chunk_.get() + aligned, used_ - aligned); !s) return fail(s.error());
    }
    used_ = 0;
  }
  if (::fsync(fd_) != 0) return fail(IoError("cannot fsync", tmp_, errno));
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    return Fail(IoError("cannot close", tmp_, err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    return Fail(IoError("cannot rename onto", path_, err));
  }
  return FsyncPath(Parent(path_));
}

Status WriteFileAtomically(const std::string& path, std::string_view data, FileModes modes) {
  auto file = AtomicFileWriter::Open(path, {.direct = false, .modes = modes});
  if (!file) return Fail(file.error());
  file->Append(data);
  return file->Commit();
}

std::optional<long> AtomicWriteTempPid(std::string_view filename) {
  // ".<name>.tmp.<pid>.<random hex>": read from the end, the name may hold dots.
  if (!filename.starts_with('.')) return std::nullopt;
  auto digits = [](std::string_view text, std::string_view allowed) {
    return !text.empty() && text.size() <= 18 &&
           text.find_first_not_of(allowed) == std::string_view::npos;
  };
  const size_t last_dot = filename.rfind('.');
  if (last_dot == std::string_view::npos ||
      !digits(filename.substr(last_dot + 1), "0123456789abcdef")) {
    return std::nullopt;
  }
  const std::string_view rest = filename.substr(0, last_dot);
  const size_t pid_dot = rest.rfind('.');
  if (pid_dot == std::string_view::npos) return std::nullopt;
  const std::string_view pid = rest.substr(pid_dot + 1);
  if (!digits(pid, "0123456789") || !rest.substr(0, pid_dot).ends_with(".tmp")) {
    return std::nullopt;
  }
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

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
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
    if (static_cast<size_t>(n) > max_bytes - out.size()) {
      ::close(fd);
      return Fail(ErrorCode::kInvalidArgument,
                  path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace kc::util
