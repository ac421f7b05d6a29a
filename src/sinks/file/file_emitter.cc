#include "sinks/file/file_emitter.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "base/files.h"
#include "sinks/util/format.h"

namespace kc::emitter {

FileEmitter::FileEmitter(std::string directory, FileFormat format, Compression compression,
                         RetryPolicy retry, CsvColumns csv, bool direct_io, util::FileModes modes)
    : directory_(std::move(directory)),
      format_(format),
      compression_(compression),
      retry_(retry),
      csv_(std::move(csv)),
      direct_io_(direct_io),
      modes_(modes),
      name_(*KeyTemplate::Parse("{stream}/{shard}/{yyyy}/{MM}/{dd}/{first}-{last}.{ext}")) {
  while (directory_.size() > 1 && directory_.ends_with('/')) directory_.pop_back();
}

std::string FileEmitter::PathFor(const Batch& batch) const {
  return directory_ + "/" + name_.Render(batch, EncodedExtension(format_, compression_));
}

void FileEmitter::CleanUpOnce(const Batch& batch) {
  const std::string shard_dir = batch.stream + "/" + batch.shard_id;
  {
    std::lock_guard lock(mu_);
    if (!cleaned_.insert(shard_dir).second) return;
  }
  // Emit is called for one shard by one thread at a time: no write of this
  // shard is under way here. A failure only leaves litter, so it is logged.
  auto removed = util::RemoveStaleTempFiles(directory_ + "/" + shard_dir);
  if (!removed) {
    spdlog::warn("removing stale temporary files of shard {}: {}", batch.shard_id,
                 removed.error().message());
  } else if (*removed > 0) {
    spdlog::info("removed {} temporary files left under {}/{} by a process that ended", *removed,
                 directory_, shard_dir);
  }
}

Status FileEmitter::Emit(const Batch& batch, std::stop_token stop) {
  // No records, no file: an empty file would name a range it does not hold.
  if (batch.records.empty()) return Ok();
  CleanUpOnce(batch);
  // Compressed output is made whole (the compressors work on whole
  // buffers) and is a fraction of the batch; plain output is formatted
  // straight into the file.
  std::optional<std::string> compressed;
  if (compression_ != Compression::kNone) {
    auto body = EncodeBatch(batch, format_, compression_, csv_);
    if (!body) return Fail(body.error());
    compressed = std::move(*body);
  }
  const std::string path = PathFor(batch);
  return retry_.Run("write " + path, stop, [&]() -> Status {
    auto file = util::AtomicFileWriter::Open(path, {.direct = direct_io_, .modes = modes_});
    if (!file) return Fail(file.error());
    if (compressed) {
      file->Append(*compressed);
    } else {
      struct FileSink final : ByteSink {
        explicit FileSink(util::AtomicFileWriter& target) : file(target) {}
        void Append(std::string_view data) override { file.Append(data); }
        util::AtomicFileWriter& file;
      } sink(*file);
      // Fails only for a record the format cannot hold: not retried.
      if (auto s = WriteFormatted(sink, batch, format_, csv_); !s) return s;
    }
    return file->Commit();
  });
}

std::string FileEmitter::Describe() const {
  return EncodingName(format_, compression_) + " files under " + directory_;
}

}  // namespace kc::emitter
