// Durable local file operations shared by the file emitter and the file
// checkpoint store.
#pragma once

#include <string>
#include <string_view>

#include "kc/status.h"

namespace kc::util {

// Writes `data` to `path` so that after a crash at any instant the file holds
// either its old content or all of `data`: a hidden temporary file in the
// same directory (".<name>.tmp.<pid>.<n>"), fsync, rename over the target,
// fsync of the directory. Creates
// missing parent directories.
Status WriteFileAtomically(const std::string& path, std::string_view data);

// Writes all of `data` to `fd`, resuming after short writes and EINTR.
// `what` names the destination in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// The whole file. kNotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// mkdir -p, fsyncing each directory it creates so new names survive a crash.
Status CreateDirectories(const std::string& path);

}  // namespace kc::util
