// Dead letters as files: <directory>/<name> (see dead_letters/letter),
// one file per record, written atomically; a repeat overwrites.
//
// Thread-safety: Write may be called concurrently.
#pragma once

#include <string>

#include "kc/dead_letter.h"

namespace kc::dead_letter {

class FileDeadLetters final : public DeadLetterSink {
 public:
  explicit FileDeadLetters(std::string directory) : directory_(std::move(directory)) {}
  Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) override;
  std::string Describe() const override { return "dead letters as files under " + directory_; }

 private:
  std::string directory_;
};

}  // namespace kc::dead_letter
