#include "sinks/s3/s3_emitter.h"

#include <spdlog/spdlog.h>

#include "base/compression.h"
#include "sinks/util/format.h"

namespace kc::emitter {
namespace {

const char* ContentType(FileFormat format) {
  switch (format) {
    case FileFormat::kLines:
      return "text/plain; charset=utf-8";
    case FileFormat::kRaw:
      return "application/octet-stream";
    case FileFormat::kEnvelope:
      return "application/x-ndjson";
    case FileFormat::kCsv:
      return "text/csv; charset=utf-8";
  }
  return "application/octet-stream";
}

}  // namespace

S3Emitter::S3Emitter(std::shared_ptr<aws::S3Client> client, S3Settings settings)
    : client_(std::move(client)),
      abort_client_(
          client_->WithRetry(RetryPolicy(RetryOptions{.max_attempts = 3,
                                                      .base = std::chrono::milliseconds(100),
                                                      .cap = std::chrono::seconds(1)}))),
      config_(std::move(settings)) {
  // The original library joined prefix and date with a '/'.
  prefix_ = config_.prefix;
  if (!prefix_.empty() && !prefix_.ends_with('/')) prefix_ += '/';
  ext_ = EncodedExtension(config_.format, config_.compression);
  put_.content_type = ContentType(config_.format);
  put_.server_side_encryption = config_.server_side_encryption;
  put_.kms_key_id = config_.kms_key_id;
}

std::string S3Emitter::KeyFor(const Batch& batch) const {
  std::string key = prefix_ + config_.key.Render(batch, ext_);
  // A template without {ext} still gets the compression's extension, so a
  // compressed object never passes for plain text.
  if (!config_.key.HasExt()) {
    key += util::CompressionExtension(config_.compression);
  }
  return key;
}

Status S3Emitter::Emit(const Batch& batch, std::stop_token stop) {
  // No records, no object: an empty object would name a range it does not hold.
  if (batch.records.empty()) return Ok();
  auto encoded = EncodeBatch(batch, config_.format, config_.compression, config_.csv);
  if (!encoded) return Fail(encoded.error());
  std::string body = std::move(*encoded);
  const std::string key = KeyFor(batch);
  if (body.size() <= config_.part_size) {
    return client_->PutObject(config_.bucket, key, std::move(body), put_, stop);
  }
  return Multipart(key, body, stop);
}

Status S3Emitter::Multipart(const std::string& key, std::string_view body, std::stop_token stop) {
  uint64_t part_size = config_.part_size;
  // Stay within S3's 10,000 parts however large the batch.
  while ((body.size() + part_size - 1) / part_size > aws::S3Client::kMaxParts) part_size *= 2;
  auto upload = client_->CreateMultipartUpload(config_.bucket, key, put_, stop);
  if (!upload) return Fail(upload.error());
  std::vector<aws::CompletedPart> parts;
  Status result = Ok();
  for (size_t offset = 0; offset < body.size(); offset += part_size) {
    int number = static_cast<int>(parts.size()) + 1;
    auto etag = client_->UploadPart(config_.bucket, key, *upload, number,
                                    body.substr(offset, part_size), stop);
    if (!etag) {
      result = Fail(etag.error());
      break;
    }
    parts.push_back({number, std::move(*etag)});
  }
  if (result) {
    result = client_->CompleteMultipartUpload(config_.bucket, key, *upload, parts, stop);
    if (!result && result.error().code() == ErrorCode::kNotFound) {
      // A retry after a lost answer finds the upload gone: an earlier attempt
      // may have completed it. The object says so.
      auto head = client_->HeadObject(config_.bucket, key, stop);
      if (head && head->has_value()) return Ok();
    }
  }
  if (!result) {
    // Parts of an unfinished upload are stored (and billed) until aborted.
    // Abort even when shutting down, with a short budget of its own so an
    // unreachable S3 cannot hold up the shutdown.
    auto aborted = abort_client_.AbortMultipartUpload(config_.bucket, key, *upload, {});
    if (!aborted) {
      spdlog::warn(
          "could not abort the multipart upload of s3://{}/{} ({}); a bucket lifecycle "
          "rule for incomplete uploads cleans it up",
          config_.bucket, key, aborted.error().message());
    }
  }
  return result;
}

std::string S3Emitter::Describe() const {
  return EncodingName(config_.format, config_.compression) + " objects in s3://" + config_.bucket +
         "/" + prefix_;
}

}  // namespace kc::emitter
