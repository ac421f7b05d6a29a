// Durable local file operations shared by the file emitter and the file
// checkpoint store.
#pragma once

#include <optional>
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

// The process id in the name of a temporary file WriteFileAtomically makes
// (".<name>.tmp.<pid>.<n>", `filename` without its directory), or nullopt
// for any other name.
std::optional<long> AtomicWriteTempPid(std::string_view filename);

// Removes, under `directory` (recursively), the temporary files of
// WriteFileAtomically whose process is gone: what a kill -9 or a power loss
// left. Files of live processes (this one included) are kept. A missing
// directory is nothing to do. Returns how many were removed; an error names
// the file or directory it could not handle.
Result<size_t> RemoveStaleTempFiles(const std::string& directory);

// Writes all of `data` to `fd`, resuming after short writes and EINTR.
// `what` names the destination in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// The whole file. kNotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// mkdir -p, fsyncing each directory it creates so new names survive a crash.
Status CreateDirectories(const std::string& path);

}  // namespace kc::util
