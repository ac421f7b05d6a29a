// Hiding secrets in text that is shown: logs, errors, `status`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kc::util {

// `text` with every occurrence of each secret replaced by "***". Values
// shorter than `min_size` bytes are left alone: "***" in place of every "a"
// would help no one.
inline std::string RedactSecrets(std::string text, const std::vector<std::string_view>& secrets,
                                 size_t min_size = 8) {
  for (std::string_view secret : secrets) {
    if (secret.empty() || secret.size() < min_size) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace kc::util
