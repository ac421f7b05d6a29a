#include "emitter/stdout/stdout_emitter.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "emitter/format.h"

namespace kc::emitter {

Status StdoutEmitter::Emit(const Batch& batch, std::stop_token) {
  std::string body;
  AppendFormatted(body, batch, format_);
  std::lock_guard lock(mu_);
  const char* p = body.data();
  size_t left = body.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo,
                  std::string("cannot write to standard output: ") + std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Ok();
}

std::string StdoutEmitter::Describe() const {
  return std::string(FormatName(format_)) + " to standard output";
}

}  // namespace kc::emitter
