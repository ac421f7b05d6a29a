#include "emitter/file/file_emitter.h"

#include "emitter/format.h"
#include "util/compression.h"
#include "util/files.h"

namespace kc::emitter {

FileEmitter::FileEmitter(std::string directory, FileFormat format, Compression compression,
                         RetryPolicy retry)
    : directory_(std::move(directory)),
      format_(format),
      compression_(compression),
      retry_(retry),
      name_(*KeyTemplate::Parse("{stream}/{shard}/{yyyy}/{MM}/{dd}/{first}-{last}.{ext}")) {
  while (directory_.size() > 1 && directory_.ends_with('/')) directory_.pop_back();
}

std::string FileEmitter::PathFor(const Batch& batch) const {
  return directory_ + "/" +
         name_.Render(batch, std::string(FormatExtension(format_)) +
                                 util::CompressionExtension(compression_));
}

Status FileEmitter::Emit(const Batch& batch, std::stop_token stop) {
  std::string body;
  body.reserve(batch.bytes + batch.records.size() * (format_ == FileFormat::kEnvelope ? 200 : 1));
  AppendFormatted(body, batch, format_);
  if (compression_ != Compression::kNone) {
    auto compressed = util::Compress(body, compression_);
    if (!compressed) return Fail(compressed.error());
    body = std::move(*compressed);
  }
  const std::string path = PathFor(batch);
  return retry_.Run("write " + path, stop, [&] { return util::WriteFileAtomically(path, body); });
}

std::string FileEmitter::Describe() const {
  std::string what = FormatName(format_);
  if (compression_ != Compression::kNone)
    what += std::string(", ") + util::CompressionName(compression_);
  return what + " files under " + directory_;
}

}  // namespace kc::emitter
