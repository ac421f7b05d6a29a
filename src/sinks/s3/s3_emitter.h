// S3Emitter: one object per batch.
//
// The object key is <prefix><key template> rendered from the batch alone
// (stream, shard, first and last sequence numbers, the first record's
// arrival time), so a batch replayed after a crash lands on the same key and
// replaces the object instead of adding a second copy. The default key
// reproduces the original library's "prefix/YYYY/MM/DD/first-last".
//
// A body up to `part_size` goes up in one PutObject; a larger one as a
// multipart upload, each part retried on its own by the client's retry
// policy, and an unfinished upload is aborted so no invisible parts are left
// to bill for.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <memory>
#include <string>

#include "clients/s3/s3_client.h"
#include "kc/emitter.h"
#include "sinks/s3/config.h"
#include "sinks/util/format.h"
#include "sinks/util/key_template.h"

namespace kc::emitter {

class S3Emitter final : public Emitter {
 public:
  S3Emitter(std::shared_ptr<aws::S3Client> client, S3Settings settings);

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

  // The object key of `batch`.
  std::string KeyFor(const Batch& batch) const;

 private:
  Status Multipart(const std::string& key, std::string_view body, std::stop_token stop);

  std::shared_ptr<aws::S3Client> client_;
  aws::S3Client abort_client_;  // the same client with a short retry budget
  S3Settings config_;
  std::string prefix_;
  std::string ext_;
  aws::PutObjectOptions put_;
};

}  // namespace kc::emitter
