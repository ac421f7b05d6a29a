// Errors as values. Every fallible operation across a component boundary returns
// `kc::Result<T>` (a std::expected, spelled kc::expected: see kc/expected.h) or
// `kc::Status`; exceptions thrown by third-party parsers are caught at the
// boundary and turned into an Error.
//
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <string>
#include <utility>

#include "kc/expected.h"

namespace kc {

// What kind of failure this is. The retry policy decides from the code alone,
// so callers classify once, where the failure is understood.
enum class ErrorCode {
  kInvalidArgument,  // the caller's input is wrong: not retried
  kConfig,           // the configuration is wrong: not retried, exit code 2
  kNotFound,         // a stream, shard, file or key does not exist
  kAuth,             // credentials missing or rejected: not retried
  kThrottled,        // the service asked us to slow down: retried with backoff
  kUnavailable,      // 5xx, InternalFailure, ServiceUnavailable: retried
  kConnection,       // could not connect, reset, timed out: retried
  kExpiredIterator,  // a shard iterator is older than five minutes
  kConflict,         // a conditional write found the state changed by another writer
  kTrimmed,          // asked for data older than the stream's retention
  kParse,            // a response or record could not be parsed
  kIo,               // local file system failure
  kCancelled,        // the operation was stopped by shutdown
  kInternal,         // a bug or an unexpected state
};

const char* ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when repeating the same request later may succeed.
  bool retriable() const {
    return code_ == ErrorCode::kThrottled || code_ == ErrorCode::kUnavailable ||
           code_ == ErrorCode::kConnection;
  }

  // "<context>: <message>", keeping the code. For adding where the error happened.
  Error With(const std::string& context) const { return Error(code_, context + ": " + message_); }

  std::string ToString() const { return std::string(ErrorCodeName(code_)) + ": " + message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = expected<T, Error>;

using Status = expected<void, Error>;

inline unexpected<Error> Fail(ErrorCode code, std::string message) {
  return unexpected<Error>(Error(code, std::move(message)));
}
inline unexpected<Error> Fail(Error e) { return unexpected<Error>(std::move(e)); }

inline Status Ok() { return {}; }

}  // namespace kc
