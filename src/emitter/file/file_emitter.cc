#include "emitter/file/file_emitter.h"

#include "emitter/format.h"
#include "util/files.h"
#include "util/time_format.h"

namespace kc::emitter {

FileEmitter::FileEmitter(std::string directory, FileFormat format, RetryPolicy retry)
    : directory_(std::move(directory)), format_(format), retry_(retry) {
  while (directory_.size() > 1 && directory_.ends_with('/')) directory_.pop_back();
}

std::string FileEmitter::PathFor(const Batch& batch) const {
  util::UtcTime t = util::ToUtc(batch.first_arrival_ms);
  return directory_ + "/" + batch.stream + "/" + batch.shard_id + "/" + util::Pad(t.year, 4) + "/" +
         util::Pad(t.month, 2) + "/" + util::Pad(t.day, 2) + "/" + BatchRangeName(batch) + "." +
         FormatExtension(format_);
}

Status FileEmitter::Emit(const Batch& batch, std::stop_token stop) {
  std::string body;
  body.reserve(batch.bytes + batch.records.size() * (format_ == FileFormat::kEnvelope ? 200 : 1));
  AppendFormatted(body, batch, format_);
  const std::string path = PathFor(batch);
  return retry_.Run("write " + path, stop, [&] { return util::WriteFileAtomically(path, body); });
}

std::string FileEmitter::Describe() const {
  return std::string(FormatName(format_)) + " files under " + directory_;
}

}  // namespace kc::emitter
