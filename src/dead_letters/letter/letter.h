// What every dead-letter destination writes: one JSON document per record
// (EncodeDeadLetter, kc/dead_letter.h), named
//   <pipeline>/<stream>/<shard>/<position>.json
// where <position> is the sequence number, and ".<sub>" for a user record of
// a KPL aggregate. A repeat of a letter has the same name.
#pragma once

#include <string>

#include "kc/dead_letter.h"

namespace kc::dead_letter {

std::string DeadLetterName(const DeadLetter& letter);

}  // namespace kc::dead_letter
