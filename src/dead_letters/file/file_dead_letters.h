// Dead letters as files: <directory>/<name> (see dead_letters/letter),
// one file per record, written atomically; a repeat overwrites.
//
// Thread-safety: Write may be called concurrently.
#pragma once

#include <string>

#include "base/files.h"

#include "kc/dead_letter.h"

namespace kc::dead_letter {

class FileDeadLetters final : public DeadLetterSink {
 public:
  explicit FileDeadLetters(std::string directory, util::FileModes modes = {})
      : directory_(std::move(directory)), modes_(modes) {}
  Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) override;
  std::string Describe() const override { return "dead letters as files under " + directory_; }

 private:
  std::string directory_;
  util::FileModes modes_;
};

}  // namespace kc::dead_letter
