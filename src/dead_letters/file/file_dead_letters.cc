#include "dead_letters/file/file_dead_letters.h"

#include "base/files.h"
#include "dead_letters/letter/letter.h"

namespace kc::dead_letter {

Status FileDeadLetters::Write(const std::vector<DeadLetter>& letters, std::stop_token) {
  for (const DeadLetter& letter : letters) {
    const std::string path = directory_ + "/" + DeadLetterName(letter);
    const std::string dir = path.substr(0, path.rfind('/'));
    if (auto s = util::CreateDirectories(dir); !s) return s;
    if (auto s = util::WriteFileAtomically(path, EncodeDeadLetter(letter) + "\n"); !s) return s;
  }
  return Ok();
}

}  // namespace kc::dead_letter
