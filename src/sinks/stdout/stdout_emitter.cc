#include "sinks/stdout/stdout_emitter.h"

#include "base/files.h"
#include "sinks/util/format.h"

namespace kc::emitter {

Status StdoutEmitter::Emit(const Batch& batch, std::stop_token) {
  std::string body;
  if (auto s = AppendFormatted(body, batch, format_, csv_); !s) return s;
  std::lock_guard lock(mu_);
  return util::WriteAll(fd_, body, "standard output");
}

std::string StdoutEmitter::Describe() const {
  return std::string(FormatName(format_)) + " to standard output";
}

}  // namespace kc::emitter
