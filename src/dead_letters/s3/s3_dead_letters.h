// Dead letters as S3 objects: <prefix><name> (see dead_letters/letter) in
// a bucket; a repeat overwrites.
//
// Thread-safety: Write may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "clients/s3/s3_client.h"
#include "kc/dead_letter.h"

namespace kc::dead_letter {

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

}  // namespace kc::dead_letter
