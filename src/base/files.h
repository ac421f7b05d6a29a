// Durable local file operations shared by the file emitter and the file
// checkpoint store.
#pragma once

#include <sys/types.h>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kc/status.h"

namespace kc::util {

// The modes of what the connector writes (output, dead letters,
// checkpoints) unless the configuration says otherwise: the records and
// positions are the owner's alone.
inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// The modes of the files a component writes and of the directories it
// makes for them.
struct FileModes {
  mode_t file = kPrivateFileMode;
  mode_t dir = kPrivateDirMode;
};

// Writes `data` to `path` so that after a crash at any instant the file holds
// either its old content or all of `data`: a hidden temporary file in the
// same directory (".<name>.tmp.<pid>.<random>"), fsync, rename over the
// target, fsync of the directory. Creates missing parent directories. The
// file gets `modes.file`, new directories `modes.dir`.
Status WriteFileAtomically(const std::string& path, std::string_view data, FileModes modes = {});

// The same guarantee for a file written in pieces: Open, Append as often as
// needed, Commit. Appended data is staged in a buffer of kChunkBytes and
// written a full buffer at a time, so a large file never has to exist whole
// in memory. Destroying a writer that was not committed removes its
// temporary file.
//
// With `direct`, writes bypass the page cache (O_DIRECT from aligned
// buffers; the unaligned tail, and every write on a file system that refuses
// O_DIRECT, go through it as usual). That is for files written once and read
// later by someone else: the kernel no longer copies each byte into cache
// pages, which was the largest single cost of file output, and the
// connector stops pushing other data out of the cache.
//
// Not thread-safe: one writer belongs to one thread at a time.

class AtomicFileWriter {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;
  // What O_DIRECT asks of buffers, lengths and offsets: the largest logical
  // block size of common devices.
  static constexpr size_t kDirectAlignment = 4096;
  struct Options {
    bool direct = false;
    // The file's mode, and that of the parent directories it creates: only
    // the owner may read what the connector writes, unless configured.
    FileModes modes;
  };
  // Creates missing parent directories and the temporary file: a hidden
  // name in the same directory that no one can guess (a random part),
  // created with O_EXCL|O_NOFOLLOW, so a file or link planted there in
  // advance is never written through.
  static Result<AtomicFileWriter> Open(const std::string& path, Options options);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  // A write error is kept and returned by Commit; later appends are dropped.
  void Append(std::string_view data) {
    if (data.size() <= kChunkBytes - used_) {
      std::char_traits<char>::copy(chunk_.get() + used_, data.data(), data.size());
      used_ += data.size();
    } else {
      AppendSlow(data);
    }
  }

  // Writes what is staged, fsyncs, renames the temporary file over `path`
  // and fsyncs the directory. Call at most once.
  Status Commit();

 private:
  struct FreeChunk {
    void operator()(char* p) const;
  };
  using Chunk = std::unique_ptr<char, FreeChunk>;

  AtomicFileWriter(std::string path, std::string tmp, int fd, bool direct, Chunk chunk);
  void AppendSlow(std::string_view data);
  // Writes [p, p + n) at the end of the file. While direct_ holds, p is
  // aligned and n a multiple of kDirectAlignment.
  Status WriteOut(const char* p, size_t n);
  Status StopDirect();
  void Abandon();
  static Chunk TakeChunk();
  static void GiveBack(Chunk chunk);

  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool direct_ = false;
  Chunk chunk_;
  size_t used_ = 0;
  std::optional<Error> error_;
};

// The process id in the name of a temporary file WriteFileAtomically makes
// (".<name>.tmp.<pid>.<n>", `filename` without its directory), or nullopt
// for any other name.
std::optional<long> AtomicWriteTempPid(std::string_view filename);

// Removes, under `directory` (recursively), the temporary files of
// WriteFileAtomically whose process is gone: what a kill -9 or a power loss
// left. Files of live processes (this one included) are kept. A missing
// directory is nothing to do. Returns how many were removed; an error names
// the file or directory it could not handle.
Result<size_t> RemoveStaleTempFiles(const std::string& directory);

// Writes all of `data` to `fd`, resuming after short writes and EINTR.
// `what` names the destination in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// The whole file. kNotFound when it does not exist; kInvalidArgument, naming
// the file and the limit, when it holds more than `max_bytes` (a file that
// names something small, such as a token, must not make us read a disk).
Result<std::string> ReadFile(const std::string& path,
                             size_t max_bytes = std::numeric_limits<size_t>::max());

// mkdir -p with `mode` for the directories it creates (existing ones are
// left as they are), fsyncing each so new names survive a crash.
Status CreateDirectories(const std::string& path, mode_t mode = kPrivateDirMode);

}  // namespace kc::util
