// FileEmitter: one file per batch under a directory.
//
// The path is a function of the batch alone:
//   <directory>/<stream>/<shard>/<yyyy>/<MM>/<dd>/<first>-<last>.<ext>[.gz|.zst]
// dated from the first record's ApproximateArrivalTimestamp (not the wall
// clock), so a batch replayed after a crash lands on the same path and
// replaces the file instead of adding a second copy. Files are written
// atomically: a reader never sees half a batch. The hidden temporary files
// a killed process leaves (see util/files.h) are removed under a shard's
// directory before this process first writes to it.
//
// Uncompressed batches are formatted straight into the file a chunk at a
// time (util::AtomicFileWriter), never as a second copy of the batch in
// memory; with `direct_io` (the default) the file's data bypasses the page
// cache.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "base/files.h"
#include "base/retry.h"
#include "kc/emitter.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"
#include "sinks/util/key_template.h"

namespace kc::emitter {

class FileEmitter final : public Emitter {
 public:
  // `csv`: the columns when `format` is kCsv.
  FileEmitter(std::string directory, FileFormat format,
              Compression compression = Compression::kNone, RetryPolicy retry = RetryPolicy(),
              CsvColumns csv = {}, bool direct_io = true, util::FileModes modes = {});

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

  // Where `batch` is written.
  std::string PathFor(const Batch& batch) const;

 private:
  // Once per stream and shard: removes what a killed process left there.
  void CleanUpOnce(const Batch& batch);

  std::string directory_;
  FileFormat format_;
  Compression compression_;
  RetryPolicy retry_;
  CsvColumns csv_;
  bool direct_io_;
  util::FileModes modes_;
  KeyTemplate name_;
  std::mutex mu_;
  std::set<std::string> cleaned_;  // "<stream>/<shard>" directories already looked at
};

}  // namespace kc::emitter
