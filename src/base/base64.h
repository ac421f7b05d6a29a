// Base64 (RFC 4648, standard alphabet, padded), as Kinesis uses for record data.
#pragma once

#include <string>
#include <string_view>

#include "kc/status.h"

namespace kc::util {

std::string Base64Encode(std::string_view bytes);
// Rejects characters outside the alphabet and bad padding with kParse.
Result<std::string> Base64Decode(std::string_view text);
// The same into `out`, whose storage is reused when it is large enough; on
// an error `out` holds what was decoded before the bad group.
Status Base64DecodeInto(std::string_view text, std::string& out);

}  // namespace kc::util
