#include "dead_letters/file/file_dead_letters.h"

#include "base/files.h"
#include "dead_letters/letter/letter.h"

namespace kc::dead_letter {

Status FileDeadLetters::Write(const std::vector<DeadLetter>& letters, std::stop_token) {
  for (const DeadLetter& letter : letters) {
    const std::string path = directory_ + "/" + DeadLetterName(letter);
    if (auto s = util::WriteFileAtomically(path, EncodeDeadLetter(letter) + "\n", modes_); !s) {
      return s;
    }
  }
  return Ok();
}

}  // namespace kc::dead_letter
