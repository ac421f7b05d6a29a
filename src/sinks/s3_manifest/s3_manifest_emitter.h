// S3ManifestEmitter: the first half of the S3 → Redshift flow.
//
// Each batch is written to S3 exactly as the S3 emitter writes it (same key,
// same format), and then the object's key is put on a manifest Kinesis
// stream. Only after both does Emit succeed, so the shard checkpoints only
// once the key is on the manifest stream; a pipeline reading that stream (the
// `redshift` emitter) loads the objects.
//
// A crash between the upload and the put replays the batch: the same object
// is written again and its key put again. The manifest stream may therefore
// carry a key twice; its reader keeps a table of loaded files and skips what
// it has already loaded, so the database gets each object once.
//
// Every key goes with the same partition key, so they land on one shard of
// the manifest stream and stay in the order they were written.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <memory>
#include <string>

#include "base/retry.h"
#include "clients/kinesis/client.h"
#include "kc/emitter.h"
#include "sinks/s3/s3_emitter.h"

namespace kc::emitter {

class S3ManifestEmitter final : public Emitter {
 public:
  // `partition_key` empty: the source stream's name.
  S3ManifestEmitter(std::unique_ptr<S3Emitter> objects,
                    std::shared_ptr<kinesis::KinesisClient> kinesis, std::string manifest_stream,
                    std::string partition_key, RetryPolicy retry = RetryPolicy());

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

 private:
  Status PutKey(const std::string& key, const std::string& partition_key,
                std::stop_token stop) const;

  std::unique_ptr<S3Emitter> objects_;
  std::shared_ptr<kinesis::KinesisClient> kinesis_;
  std::string manifest_stream_;
  std::string partition_key_;
  RetryPolicy retry_;
};

}  // namespace kc::emitter
