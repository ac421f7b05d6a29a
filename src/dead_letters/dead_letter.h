// The dead-letter destinations of `[pipeline.dead_letter]`:
//
// - file: <directory>/<pipeline>/<stream>/<shard>/<position>.json, one file
//   per record, written atomically; a repeat overwrites;
// - s3: <prefix><pipeline>/<stream>/<shard>/<position>.json in a bucket;
//   a repeat overwrites;
// - kinesis: one record per dead letter on a stream, under the source
//   record's partition key (at least once: a repeat is a second record).
//
// <position> is the sequence number, and ".<sub>" for a user record of a
// KPL aggregate.
//
// Thread-safety: Write may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "base/retry.h"
#include "clients/kinesis/client.h"
#include "clients/s3/s3_client.h"
#include "kc/dead_letter.h"
#include "sinks/util/partial_batch.h"

namespace kc::dead_letter {

class FileDeadLetters final : public DeadLetterSink {
 public:
  explicit FileDeadLetters(std::string directory) : directory_(std::move(directory)) {}
  Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) override;
  std::string Describe() const override { return "dead letters as files under " + directory_; }

 private:
  std::string directory_;
};

class S3DeadLetters final : public DeadLetterSink {
 public:
  S3DeadLetters(std::shared_ptr<aws::S3Client> client, std::string bucket, std::string prefix)
      : client_(std::move(client)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {}
  Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) override;
  std::string Describe() const override {
    return "dead letters as objects under s3://" + bucket_ + "/" + prefix_;
  }

 private:
  std::shared_ptr<aws::S3Client> client_;
  std::string bucket_;
  std::string prefix_;
};

class KinesisDeadLetters final : public DeadLetterSink {
 public:
  // `client` should make one attempt per call: the writer retries.
  KinesisDeadLetters(std::shared_ptr<kinesis::KinesisClient> client, std::string stream,
                     RetryPolicy retry = RetryPolicy());
  Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) override;
  std::string Describe() const override { return "dead letters on Kinesis stream " + stream_; }

 private:
  std::shared_ptr<kinesis::KinesisClient> client_;
  std::string stream_;
  emitter::PartialBatchWriter writer_;
};

// "<pipeline>/<stream>/<shard>/<position>.json"
std::string DeadLetterName(const DeadLetter& letter);

}  // namespace kc::dead_letter
