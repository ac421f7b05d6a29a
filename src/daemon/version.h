// `kinesis-connect --version`: what this binary is and what it links.
#pragma once

#include <string>

namespace kc::daemon {

// Several lines, without a final line break: the version, the commit and build type, then one line
// per library with the version it was built against or, where the library can say, the one loaded
// at run time.
std::string VersionText();

}  // namespace kc::daemon
