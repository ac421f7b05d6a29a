// Dead letters on a Kinesis stream: one record per letter, under the source
// record's partition key (at least once: a repeat is a second record).
//
// Thread-safety: Write may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "base/retry.h"
#include "clients/kinesis/client.h"
#include "kc/dead_letter.h"
#include "sinks/util/partial_batch.h"

namespace kc::dead_letter {

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

}  // namespace kc::dead_letter
