#include "dead_letters/s3/s3_dead_letters.h"

#include "dead_letters/letter/letter.h"

namespace kc::dead_letter {

Status S3DeadLetters::Write(const std::vector<DeadLetter>& letters, std::stop_token stop) {
  aws::PutObjectOptions options;
  options.content_type = "application/json";
  for (const DeadLetter& letter : letters) {
    const std::string key = prefix_ + DeadLetterName(letter);
    if (auto s = client_->PutObject(bucket_, key, EncodeDeadLetter(letter) + "\n", options, stop);
        !s) {
      return Fail(s.error().With("writing dead letter s3://" + bucket_ + "/" + key));
    }
  }
  return Ok();
}

}  // namespace kc::dead_letter
