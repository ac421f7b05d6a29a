#include "sinks/s3_manifest/s3_manifest_emitter.h"

namespace kc::emitter {

S3ManifestEmitter::S3ManifestEmitter(std::unique_ptr<S3Emitter> objects,
                                     std::shared_ptr<kinesis::KinesisClient> kinesis,
                                     std::string manifest_stream, std::string partition_key,
                                     RetryPolicy retry)
    : objects_(std::move(objects)),
      kinesis_(std::move(kinesis)),
      manifest_stream_(std::move(manifest_stream)),
      partition_key_(std::move(partition_key)),
      retry_(retry) {}

Status S3ManifestEmitter::Emit(const Batch& batch, std::stop_token stop) {
  // No object is written for no records, so there is no key to announce.
  if (batch.records.empty()) return Ok();
  if (auto s = objects_->Emit(batch, stop); !s) return s;
  const std::string key = objects_->KeyFor(batch);
  return PutKey(key, partition_key_.empty() ? batch.stream : partition_key_, stop);
}

Status S3ManifestEmitter::PutKey(const std::string& key, const std::string& partition_key,
                                 std::stop_token stop) const {
  const std::vector<kinesis::PutRecordsEntry> entries{{key, partition_key, ""}};
  // The client retries whole-call failures; a record the call refused
  // (throttled, internal failure) is retried here, with the same policy.
  return retry_.Run(
      "putting " + key + " on manifest stream " + manifest_stream_, stop, [&]() -> Status {
        auto result = kinesis_->PutRecords(manifest_stream_, entries, stop);
        if (!result) return Fail(result.error());
        if (result->failed_record_count == 0 && result->records.size() == 1) {
          return Ok();
        }
        if (result->records.size() != 1) {
          return Fail(ErrorCode::kParse, "PutRecords answered " +
                                             std::to_string(result->records.size()) +
                                             " results for 1 record");
        }
        return Fail(kinesis::PutRecordsEntryError(result->records.front())
                        .With("manifest stream " + manifest_stream_ + " refused the key"));
      });
}

std::string S3ManifestEmitter::Describe() const {
  return objects_->Describe() + ", keys on manifest stream " + manifest_stream_;
}

}  // namespace kc::emitter
