// Names that become path components, keys and log text: pipeline names,
// shard ids, stream names. One rule for all of them, so that a name one
// part accepts cannot escape a directory in another: 1 to 128 of
// [A-Za-z0-9._-], and not "." or "..", which mean something in paths.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kc::util {

inline constexpr size_t kMaxNameLength = 128;

// Why `name` breaks the rule ("must contain only letters, ..."), or nothing.
std::optional<std::string> NameProblem(std::string_view name);

}  // namespace kc::util
