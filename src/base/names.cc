#include "base/names.h"

#include <algorithm>

namespace kc::util {

std::optional<std::string> NameProblem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameLength) {
    return "must be at most " + std::to_string(kMaxNameLength) + " characters";
  }
  const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (!allowed) return "must contain only letters, digits, '.', '_' and '-'";
  if (name == "." || name == "..") return "must not be '.' or '..'";
  return std::nullopt;
}

}  // namespace kc::util
